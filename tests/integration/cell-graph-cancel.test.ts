// Cancelling neighbours, UMAP and Leiden clustering through the job runner (as the service
// runs them), with the machine's other core kept busy, at the three moments that matter for
// the store: while the op computes, once its files are written but before the commit point,
// and after the commit point before the version is registered (the version is taken back).
// Each moment is reached through the op's own progress or checkpoint, so the cancel lands
// there every time. After each cancel the job and its run are cancelled, the store's files
// are what they were, verify finds nothing to fix, no lock is left, and the store reads;
// afterwards each op runs to the end through the same runner.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobRunner, type JobContext, type UntypedJobSnapshot } from '../../src/main/engine/jobs/runner';
import type { DerivedVersionParams } from '../../src/main/engine/ops/derived-version';
import { clusterStore } from '../../src/main/engine/ops/cluster';
import { neighborsStore } from '../../src/main/engine/ops/neighbors';
import { umapStore } from '../../src/main/engine/ops/umap';
import { saveSelectionAsColumn } from '../../src/main/engine/ops/annotate';
import { openStore } from '../../src/main/engine/store/store-reader';
import { openRegistry, type Registry } from '../../src/main/registry/registry';
import type { Progress } from '../../src/shared/contract';
import { cellar, removeDir, snapshotTree, tempDir } from './helpers/cellar';
import { ok, storeCrashKit, type CrashVerifyJson } from './helpers/store-crash';
import { makeSeedInputs, SEED_CELLS } from './helpers/workflow-inputs';

const STORE = 'cells';
const N = SEED_CELLS.s1 + SEED_CELLS.s2;
/** Finite limits, generous for a shared 2-core machine under load. */
const JOB_LIMIT_MS = 90_000;

let root: string;
let home: string;
let storeDir: string;
let registry: Registry;
let busy: ChildProcess | undefined;
const runner = new JobRunner(() => undefined, 0);
const h = () => ({ home });
const { versions, newestRun } = storeCrashKit(() => ({ home, store: STORE, storeDir }));

type Op = (params: DerivedVersionParams) => Promise<{ store: { version: number } }>;

interface CancelOp {
  name: string;
  transform: string;
  run: Op;
  /** A progress phase of its computing, past the neighbour graph it may make first. */
  computing: RegExp;
  /** What the result says when the op runs to the end on a version without a graph. */
  made: Record<string, unknown>;
}

const OPS: CancelOp[] = [
  { name: 'UMAP', transform: 'umap', run: (p) => umapStore({ ...p, epochs: 100 }), computing: /^UMAP: layout/, made: { umap: expect.objectContaining({ name: 'X_umap', graph_computed: true }) } },
  { name: 'Leiden clustering', transform: 'cluster', run: (p) => clusterStore(p), computing: /^Clustering: Leiden/, made: { clusters: expect.objectContaining({ name: 'leiden', graph_computed: true }) } },
  { name: 'neighbour search', transform: 'neighbors', run: (p) => neighborsStore({ ...p, k: 10, name: 'knn10' }), computing: /^Neighbours/, made: { graph: expect.objectContaining({ name: 'knn10', k: 10, n_obs: N }) } },
];

/** Saving a lasso selection as an obs column (an annotate job): no computing phase, only the commit's checkpoints. */
const SELECTION: CancelOp = {
  name: 'Saving the selection',
  transform: 'annotate',
  run: (p) => saveSelectionAsColumn({ registry: p.registry, storeKey: p.storeKey, signal: p.signal, checkpoint: p.checkpoint, column: 'picked', groups: [{ label: 'lassoed', joinids: [0, 2, 4] }], restLabel: 'other' }),
  computing: /^$/,
  made: {},
};

interface Moment {
  name: string;
  /** Cancel on the first progress of this phase … */
  phase?: (op: CancelOp) => RegExp;
  /** … or at this checkpoint of the commit. */
  checkpoint?: string;
}

const MOMENTS: Moment[] = [
  { name: 'while it computes', phase: (op) => op.computing },
  { name: 'with its files written, before the commit point', phase: () => /^Saving the new version$/ },
  { name: 'after the commit point, before the version is registered', checkpoint: 'after-commit' },
];

/** Runs `op` as a job; `cancelAt` says, from a progress or a checkpoint, when to cancel it through the runner. */
async function runJob(op: CancelOp, cancelAt?: (event: { progress?: Progress; checkpoint?: string }) => boolean): Promise<{ job: UntypedJobSnapshot; phases: string[]; cancelled: boolean }> {
  const phases: string[] = [];
  const job: { id?: string } = {};
  let cancelled = false;
  const cancel = () => {
    expect(job.id, 'the job reported before it had an id').toBeDefined();
    runner.cancel(job.id!);
    cancelled = true;
  };
  const started = runner.start(op.transform, op.name, (ctx: JobContext) =>
    op.run({
      registry,
      storeKey: STORE,
      signal: ctx.signal,
      onProgress: (progress) => {
        ctx.onProgress(progress);
        if (phases.at(-1) !== progress.phase) phases.push(progress.phase);
        if (!cancelled && cancelAt?.({ progress })) cancel();
      },
      checkpoint: (name) => {
        if (!cancelled && cancelAt?.({ checkpoint: name })) cancel();
      },
    }),
  );
  job.id = started.id;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${op.name} did not end within ${JOB_LIMIT_MS} ms`)), JOB_LIMIT_MS)));
  try {
    return { job: await Promise.race([runner.wait(started.id), limit]), phases, cancelled };
  } finally {
    clearTimeout(timer);
  }
}

/** Every file of the store but its reader leases (a lock left behind would show here). */
function storeFiles(): Record<string, string> {
  const snap = snapshotTree(storeDir);
  for (const name of Object.keys(snap)) if (name.startsWith('readers/')) delete snap[name];
  return snap;
}

beforeAll(() => {
  root = tempDir('cell-graph-cancel');
  home = join(root, 'home');
  const files = makeSeedInputs(join(root, 'in'));
  ok(cellar(['import', files.s1, files.s2, '--collection', 'pair', '--json'], h()));
  const made = ok(cellar(['concat', '--collection', 'pair', '--store', STORE, '--json'], h())) as { store: { uid: string } };
  storeDir = join(home, 'stores', made.store.uid.slice(0, 16));
  ok(cellar(['embed', '--store', STORE, '--pca', '5', '--json'], h()));
  registry = openRegistry(home);
  // The other core is busy for the whole file: cancel must not depend on an idle machine.
  busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
}, 180_000);

afterAll(() => {
  if (busy?.pid) busy.kill('SIGKILL');
  registry?.close();
  removeDir(root);
});

describe.each(OPS.map((op) => [op.name, op] as const))('%s cancelled through the job runner, the other core busy', (_name, op) => {
  it.each(MOMENTS.map((m) => [m.name, m] as const))('%s: the job and its run end cancelled and the store is as it was', async (_moment, moment) => {
    const rowsBefore = versions();
    expect(rowsBefore[0]!.version).toBe(2);
    const before = storeFiles();
    const { job, phases, cancelled } = await runJob(op, ({ progress, checkpoint }) => (moment.checkpoint ? checkpoint === moment.checkpoint : !!progress && moment.phase!(op).test(progress.phase)));
    expect(cancelled, `never reached the moment to cancel; phases: ${phases.join(' / ')}`).toBe(true);
    expect([job.state, job.error]).toEqual(['cancelled', { code: 'cancelled', message: `${op.name} was cancelled.` }]);
    expect(job.result).toBeUndefined();
    const run = newestRun(op.transform);
    expect([run.status, run.outputs.artifacts]).toEqual(['cancelled', []]);
    // Nothing the op wrote is left: not its data files, manifest, hashes or lock.
    expect(storeFiles()).toEqual(before);
    expect(existsSync(join(storeDir, '.lock'))).toBe(false);
    expect(versions()).toEqual(rowsBefore);
    const verify = ok(cellar(['verify', '--store', STORE, '--json'], h())) as CrashVerifyJson;
    expect(verify).toMatchObject({ ok: true, versions: [1, 2], problems: [], garbage: [] });
    const reader = openStore(storeDir, 2);
    try {
      expect([reader.nObs, reader.obspNames('RNA'), reader.obsmNames('RNA')]).toEqual([N, [], ['pca']]);
    } finally {
      reader.close();
    }
  }, 120_000);
});

describe('saving a selection, cancelled through the job runner', () => {
  it.each(['before-commit', 'after-commit'])('at %s: the job and its run end cancelled and the store is as it was', async (checkpointName) => {
    const rowsBefore = versions();
    const before = storeFiles();
    const { job, cancelled } = await runJob(SELECTION, ({ checkpoint }) => checkpoint === checkpointName);
    expect(cancelled).toBe(true);
    expect([job.state, job.error]).toEqual(['cancelled', { code: 'cancelled', message: 'Saving the selection was cancelled.' }]);
    expect([newestRun('annotate').status, newestRun('annotate').outputs.artifacts]).toEqual(['cancelled', []]);
    expect(storeFiles()).toEqual(before);
    expect(versions()).toEqual(rowsBefore);
    const verify = ok(cellar(['verify', '--store', STORE, '--json'], h())) as CrashVerifyJson;
    expect(verify).toMatchObject({ ok: true, problems: [], garbage: [] });
    expect(openStore(storeDir, rowsBefore[0]!.version).obs.columnNames).not.toContain('picked');
  }, 120_000);
});

describe('after the cancels', () => {
  it('each op runs to the end through the same runner, each a new version', async () => {
    // Restored to version 2 before each, so UMAP and the clustering find no graph, as when they were cancelled.
    let version = 2;
    for (const op of OPS) {
      if (version > 2) version = (ok(cellar(['restore', '--store', STORE, '2', '--json'], h())) as { store: { version: number } }).store.version;
      const { job } = await runJob(op);
      expect(job.state, JSON.stringify(job.error)).toBe('completed');
      expect(job.result).toMatchObject({ store: { version: version + 1 }, ...op.made });
      version++;
      expect(newestRun(op.transform).status).toBe('completed');
    }
    const verify = ok(cellar(['verify', '--store', STORE, '--json'], h())) as CrashVerifyJson;
    expect(verify).toMatchObject({ ok: true, problems: [], garbage: [] });
  }, 240_000);
});
