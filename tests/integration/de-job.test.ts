// Differential expression as the app and `cellar serve` run it: a job started through the
// contract (de:start) in a worker, with progress in words, whose full table is paged as Arrow
// (de:table) and exported as CSV (de:export); the same numbers whether the genes are tested on
// two worker threads or on one thread; cancelled within a second while it reads the cells and
// while it tests genes, with the other core kept busy; bad requests refused with a clear message.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { differentialExpression } from '../../src/main/engine/ops/differential-expression';
import { openRegistry } from '../../src/main/registry/registry';
import { createService, type Service } from '../../src/main/service/handlers';
import type { DeJobResult, DeRow, Events, JobSnapshot } from '../../src/shared/contract';
import { runPythonJson } from './helpers/python';
import { contractCaller } from './helpers/service';

// 60,000 cells × 4,000 genes, 400 values per cell: seconds of testing, long enough to cancel in.
const MAKE_BIG = String.raw`
import sys, json
import numpy as np, pandas as pd, anndata as ad, scipy.sparse as sp
out, n, g, per = sys.argv[1], 60000, 4000, 400
rng = np.random.default_rng(3)
ct = rng.choice(['A', 'B', 'C', 'D'], size=n)
step = g // per
indptr = np.arange(0, n * per + 1, per, dtype=np.int64)
indices = (np.arange(per, dtype=np.int32)[None, :] * step + rng.integers(0, step, size=(n, 1), dtype=np.int32)).ravel()
values = rng.integers(1, 8, size=n * per).astype(np.float32)
# Cell type A expresses every tenth band of genes (genes 0-9, 100-109, ...) more.
values[((indices // step) % 10 == 0) & np.repeat(ct == 'A', per)] += 6
X = sp.csr_matrix((values, indices, indptr), shape=(n, g))
obs = pd.DataFrame({'cell_type': pd.Categorical(ct)}, index=[f'c{i}' for i in range(n)])
var = pd.DataFrame({'feature_name': [f'S{j}' for j in range(g)]}, index=[f'G{j}' for j in range(g)])
ad.AnnData(X=X, obs=obs, var=var).write_h5ad(f'{out}/big.h5ad')
print(json.dumps({'n_obs': n}))
`;

let home: string;
let data: string;
let service: Service;
let busy: ChildProcess | undefined;
const files = new Map<string, string>();
const { invoke, refused, tokenFor } = contractCaller(() => service, files);
const events: { at: number; job: JobSnapshot }[] = [];
const latencies: string[] = [];

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cellar-de-home-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-de-data-'));
  runPythonJson(MAKE_BIG, [data]);
  service = createService({
    home,
    mode: 'browser',
    version: '0.1.0',
    files,
    offerDownload: (path) => `/download/${encodeURIComponent(path)}`,
    emit: <E extends keyof Events>(event: E, payload: Events[E]) => {
      if (event === 'job:progress' || event === 'job:finished') events.push({ at: Date.now(), job: payload as JobSnapshot });
    },
  });
  const imported = await invoke('import:start', { fileTokens: [tokenFor(join(data, 'big.h5ad'))], collectionKey: 'big-files' });
  expect((await service.jobs.wait(imported.id)).state).toBe('completed');
  const concat = await invoke('concat:start', { collectionKey: 'big-files', storeKey: 'big' });
  expect((await service.jobs.wait(concat.id)).state).toBe('completed');
}, 300_000);

afterAll(() => {
  if (busy?.pid) busy.kill('SIGKILL');
  service?.close();
  console.log(`de cancel latencies (other core busy):\n${latencies.join('\n')}`);
  rmSync(home, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

function phasesOf(id: string): string[] {
  return events.filter((e) => e.job.id === id && e.job.progress).map((e) => e.job.progress!.phase);
}

function rowsOfArrow(bytes: Uint8Array): DeRow[] {
  const table = tableFromIPC(bytes);
  return table.toArray().map((r: Record<string, unknown>) => ({
    gene: String(r.gene),
    symbol: String(r.symbol),
    logfc: Number(r.logfc),
    pval: Number(r.pval),
    padj: Number(r.padj),
    pct_in: Number(r.pct_in),
    pct_out: Number(r.pct_out),
    score: Number(r.score),
  }));
}

describe('de as a job', () => {
  it('runs in a worker with progress in words; its table pages as Arrow and exports as CSV; two threads and one give the same numbers', async () => {
    const started = await invoke('de:start', { storeKey: 'big', groupby: 'cell_type', group: 'A' });
    expect(started.kind).toBe('de');
    const job = (await service.jobs.wait(started.id)) as JobSnapshot;
    expect(job.error).toBeUndefined();
    expect(job.state).toBe('completed');
    const phases = phasesOf(started.id);
    expect(phases.some((p) => /^Reading cells [\d,]+ of 60,000$/.test(p))).toBe(true);
    expect(phases.some((p) => /^Testing genes \d{1,3}(,\d{3})* of 4,000$/.test(p))).toBe(true);
    expect(phases).toContain('Testing genes 4,000 of 4,000');
    const result = job.result as DeJobResult;
    expect(result).toMatchObject({ method: 'wilcoxon', values: 'log-normalized', n_genes: 4000, group: { label: 'cell_type == "A"' }, reference: { label: 'rest', n_cells: 60000 - result.group.n_cells } });
    expect(result.top).toHaveLength(50);

    // Pages of the kept table, in rank order.
    const first = await invoke('de:table', { table: result.table, offset: 0, limit: 3000 });
    const second = await invoke('de:table', { table: result.table, offset: 3000, limit: 3000 });
    expect([first.total, first.offset, second.offset]).toEqual([4000, 0, 3000]);
    const rows = [...rowsOfArrow(first.arrow), ...rowsOfArrow(second.arrow)];
    expect(rows).toHaveLength(4000);
    expect(rows.slice(0, 50).map((r) => ({ ...r, symbol: r.symbol }))).toEqual(result.top);
    // The 400 genes A expresses more lead.
    expect(rows.slice(0, 400).every((r) => Math.floor(Number(r.gene.slice(1)) / 10) % 10 === 0)).toBe(true);

    // The engine itself, on two worker threads and on this thread: the same table, to the bit.
    const registry = openRegistry(home);
    try {
      const threaded = await differentialExpression({ registry, storeKey: 'big', groupby: 'cell_type', group: 'A', threads: 2, blockEntries: 2_000_000 });
      const inline = await differentialExpression({ registry, storeKey: 'big', groupby: 'cell_type', group: 'A', threads: 0 });
      expect(threaded.results).toEqual(inline.results);
      expect(inline.results).toEqual(rows);
    } finally {
      registry.close();
    }

    const exported = await invoke('de:export', { table: result.table });
    expect(exported.path.startsWith(join(home, 'exports'))).toBe(true);
    expect(exported.path.endsWith('big-v1-de.csv')).toBe(true);
    expect(exported.download).toBe(`/download/${encodeURIComponent(exported.path)}`);
    const lines = readFileSync(exported.path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4001);
    expect(lines[1]).toBe([rows[0]!.gene, rows[0]!.symbol, rows[0]!.logfc, rows[0]!.pval, rows[0]!.padj, rows[0]!.pct_in, rows[0]!.pct_out, rows[0]!.score].join(','));
  }, 300_000);

  it('refuses bad requests with a message naming the problem', async () => {
    expect(await refused('de:start', { storeKey: 'big', groupby: 'cell_type', group: 'A', method: 'logreg' as never })).toMatchObject({ code: 'usage', message: 'de:start: "method" must be wilcoxon or t-test.' });
    const bad = await invoke('de:start', { storeKey: 'big', groupby: 'cell_type', group: 'E' });
    const job = (await service.jobs.wait(bad.id)) as JobSnapshot;
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({ code: 'not_found', message: 'obs column "cell_type" has no value "E" (--group). Its values are "A", "B", "C", "D".' });
    const typo = await invoke('de:start', { storeKey: 'big', groupby: 'celltype', group: 'A' });
    expect(((await service.jobs.wait(typo.id)) as JobSnapshot).error).toMatchObject({ code: 'unknown_column', message: 'There is no obs column "celltype". Did you mean "cell_type"? The columns are cell_type, obs_id, dataset, cellar_run_uid.' });
    expect(await refused('de:table', { table: '../registry', offset: 0, limit: 10 })).toMatchObject({ code: 'usage', message: '"../registry" does not name a differential expression result.' });
    expect(await refused('de:export', { table: 'de-00000000-0000-0000-0000-000000000000' })).toMatchObject({ code: 'not_found' });
  }, 120_000);
});

describe('cancel, with the other core busy', () => {
  const MOMENTS: { name: string; when: (p: { phase: string; done: number; total: number }) => boolean }[] = [
    { name: 'while reading the cells', when: (p) => /^Reading cells/.test(p.phase) && p.done > 0 },
    { name: 'while testing genes', when: (p) => /^Testing genes/.test(p.phase) && p.done > 0 },
  ];
  for (const moment of MOMENTS) {
    it(`cancels ${moment.name}: cancelled within a second`, async () => {
      busy ??= spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
      const started = await invoke('de:start', { storeKey: 'big', groupby: 'cell_type', group: 'B', method: 't-test' });
      const deadline = Date.now() + 120_000;
      for (;;) {
        const job = service.jobs.get(started.id);
        expect(job.state, 'the job ended before the moment to cancel it').toBe('running');
        if (job.progress && moment.when(job.progress)) break;
        if (Date.now() > deadline) throw new Error('The job never reached the moment to cancel it.');
        await new Promise((r) => setTimeout(r, 5));
      }
      const t0 = Date.now();
      await invoke('jobs:cancel', { id: started.id });
      const job = (await service.jobs.wait(started.id)) as JobSnapshot;
      const ms = Date.now() - t0;
      latencies.push(`  ${moment.name}: ${ms} ms`);
      expect(job.state).toBe('cancelled');
      expect(job.error?.code).toBe('cancelled');
      expect(ms).toBeLessThan(1000);
    }, 180_000);
  }
});
