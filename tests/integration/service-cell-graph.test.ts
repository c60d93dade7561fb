// neighbors:start, cluster:start, umap:start and qc:start through the service, as the app and
// `cellar serve` call them, with the other core kept busy: each job reports progress, ends
// completed with its result and a new version; cancelled mid-way it ends cancelled within
// about two seconds and the store keeps its version and its files (verify finds nothing to remove).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/main/service/handlers';
import type { Events, JobSnapshot } from '../../src/shared/contract';
import { contractCaller } from './helpers/service';
import { cellar, snapshotTree } from './helpers/cellar';
import { runPythonJson } from './helpers/python';

// 40,000 cells × 60 genes (sparse counts with MT- and RPL genes) and a 20-column embedding of
// twelve overlapping groups: seconds of neighbour search, so there is time to cancel.
const MAKE = String.raw`
import sys, json, numpy as np, pandas as pd, anndata as ad, scipy.sparse as sp
out = sys.argv[1]; n, g, d = 40000, 60, 20
rng = np.random.default_rng(5)
X = sp.random(n, g, density=0.2, format='csr', random_state=5, data_rvs=lambda k: rng.integers(1, 9, k)).astype(np.float32)
var = pd.DataFrame({'gene_symbols': ['MT-CO1', 'RPL3'] + [f'G{j}' for j in range(g - 2)]}, index=[f'E{j}' for j in range(g)])
ad.AnnData(X=X, obs=pd.DataFrame(index=[f'c{i}' for i in range(n)]), var=var).write_h5ad(out + '/cells.h5ad')
labels = rng.integers(0, 12, n)
E = (rng.normal(0, 4, (12, d))[labels] + rng.normal(0, 2, (n, d))).astype(np.float32)
np.save(out + '/pca.npy', E)
print(json.dumps({'ok': True}))
`;

let home: string;
let data: string;
let service: Service;
let busy: ChildProcess;
const files = new Map<string, string>();
const { invoke, refused } = contractCaller(() => service, files);
const events: JobSnapshot[] = [];

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'cellar-graph-home-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-graph-data-'));
  runPythonJson(MAKE, [data]);
  for (const args of [
    ['import', join(data, 'cells.h5ad'), '--collection', 'c'],
    ['concat', '--collection', 'c', '--store', 'atlas'],
    ['embed', '--store', 'atlas', '--from', join(data, 'pca.npy'), '--name', 'pca'],
  ]) {
    const r = cellar([...args, '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
  }
  service = createService({
    home,
    mode: 'desktop',
    version: '0.1.0',
    files,
    emit: <E extends keyof Events>(event: E, payload: Events[E]) => {
      if (event === 'job:progress' || event === 'job:finished') events.push(payload as JobSnapshot);
    },
  });
  // The other core is busy for the whole file: cancel must not depend on an idle machine.
  busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
}, 300_000);

afterAll(() => {
  busy?.kill();
  service?.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

/** Every file of the store but its reader leases (a lock or a dead write's files would show here). */
function storeFiles(): Record<string, string> {
  const r = cellar(['versions', '--store', 'atlas', '--json'], { home });
  const uid = (r.json as { uid: string }[]).at(-1)!.uid;
  const snap = snapshotTree(join(home, 'stores', uid.slice(0, 16)));
  for (const name of Object.keys(snap)) if (name.startsWith('readers/')) delete snap[name];
  return snap;
}

function latestVersion(): number {
  const r = cellar(['versions', '--store', 'atlas', '--json'], { home });
  return (r.json as { version: number }[])[0]!.version;
}

/** Resolves once the job reports a progress whose phase matches. */
async function progressOf(id: string, phase: RegExp, timeoutMs = 120_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    const seen = events.filter((e) => e.id === id);
    const last = seen.at(-1);
    if (last && last.state !== 'running') throw new Error(`The job ended (${last.state}) before "${phase.source}".`);
    if (seen.some((e) => e.progress && phase.test(e.progress.phase))) return;
    if (Date.now() - start > timeoutMs) throw new Error(`The job never reported "${phase.source}".`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the cell-graph jobs through the service, the other core busy', () => {
  const CANCELS: { what: string; channel: 'neighbors:start' | 'cluster:start' | 'umap:start'; request: Record<string, unknown>; phase: RegExp }[] = [
    { what: 'a neighbour search', channel: 'neighbors:start', request: {}, phase: /^Neighbours: NN-descent/ },
    { what: 'a clustering while it makes the missing graph', channel: 'cluster:start', request: {}, phase: /^Neighbours/ },
    { what: 'a UMAP while it lays out', channel: 'umap:start', request: { epochs: 500 }, phase: /^UMAP: layout/ },
  ];
  for (const c of CANCELS) {
    it(`cancels ${c.what}: cancelled within two seconds, no new version`, async () => {
      const before = latestVersion();
      const filesBefore = storeFiles();
      const started = await invoke(c.channel, { storeKey: 'atlas', ...c.request });
      await progressOf(started.id, c.phase);
      const asked = Date.now();
      await invoke('jobs:cancel', { id: started.id });
      const job = await service.jobs.wait(started.id);
      const ms = Date.now() - asked;
      console.log(`cancel ${c.what}: ${ms} ms`);
      expect(job.state).toBe('cancelled');
      expect(ms).toBeLessThan(2500);
      expect(latestVersion()).toBe(before);
      // The store is as it was, and verify has nothing to remove.
      expect(storeFiles()).toEqual(filesBefore);
      const verify = cellar(['verify', '--store', 'atlas', '--json'], { home });
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.json).toMatchObject({ ok: true, problems: [], garbage: [] });
    }, 300_000);
  }

  it('runs qc, neighbors, cluster and umap to completion with progress, each a new version', async () => {
    let version = latestVersion();
    const runs: { channel: 'qc:start' | 'neighbors:start' | 'cluster:start' | 'umap:start'; request: Record<string, unknown>; phase: RegExp }[] = [
      { channel: 'qc:start', request: {}, phase: /^QC metrics/ },
      { channel: 'neighbors:start', request: { k: 10 }, phase: /^Neighbours/ },
      { channel: 'cluster:start', request: { resolution: 0.5 }, phase: /^Clustering/ },
      { channel: 'umap:start', request: { epochs: 20, minDist: 0.3 }, phase: /^UMAP/ },
    ];
    for (const run of runs) {
      const started = await invoke(run.channel, { storeKey: 'atlas', ...run.request });
      const job = await service.jobs.wait(started.id);
      expect(job.state, JSON.stringify(job.error)).toBe('completed');
      expect(events.some((e) => e.id === started.id && e.progress && run.phase.test(e.progress.phase)), run.channel).toBe(true);
      const result = job.result as { store: { version: number } };
      expect(result.store.version).toBe(++version);
    }
    const done = events.filter((e) => e.state === 'completed' && e.kind === 'cluster').at(-1)!;
    expect(done.result).toMatchObject({ clusters: { name: 'leiden', resolution: 0.5, graph_computed: false } });
  }, 300_000);

  it('refuses a bad request at the channel (a metric that does not exist) before any job starts', async () => {
    const error = await refused('neighbors:start', { storeKey: 'atlas', metric: 'manhattan' } as never);
    expect(error.message).toMatch(/metric/);
    expect(service.jobs.list().filter((j) => j.kind === 'neighbors' && j.state === 'running')).toEqual([]);
  });
});
