// The service's handlers against the typed contract, with real jobs in worker threads on
// real anndata files: typed job results per kind, collection members in the listing,
// typed diffs, a run's details, a gene's expression per dataset, and cancel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService, type Service } from '../../src/main/service/handlers';
import { contractCaller } from './helpers/service';
import type { JobSnapshot, RequestOf } from '../../src/shared/contract';
import { runPythonJson } from './helpers/python';
import { makeSeedInputs, SEED_CONCAT_CELLS, SEED_GENES, SEED_NEW_GENES } from './helpers/workflow-inputs';

let home: string;
let data: string;
let service: Service;
let inputs: ReturnType<typeof makeSeedInputs>;
const files = new Map<string, string>();
const { invoke, tokenFor, finished } = contractCaller(() => service, files);

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'cellar-service-home-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-service-data-'));
  inputs = makeSeedInputs(data);
  service = createService({ home, mode: 'desktop', version: '0.1.0', files });
}, 120_000);

afterAll(() => {
  service?.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

let appendRunUid = '';

describe('the service contract', () => {
  it('imports three files and lists the collection with its members in order', async () => {
    const result = await finished(await invoke('import:start', { fileTokens: [inputs.s1, inputs.s2, inputs.s3].map(tokenFor), collectionKey: 'seed' }), 'import');
    expect(result.collection.key).toBe('seed');
    expect(result.artifacts.map((a) => [a.key, a.n_observations, a.existing])).toEqual([
      ['s1.h5ad', 80, false],
      ['s2.h5ad', 70, false],
      ['s3.h5ad', 60, false],
    ]);

    const library = await invoke('library:list', undefined);
    expect(library.collections).toHaveLength(1);
    const seed = library.collections[0]!;
    expect(seed.nArtifacts).toBe(3);
    expect(seed.members.map((m) => [m.key, m.version, m.nObservations, m.nVars, m.deleted])).toEqual([
      ['s1.h5ad', 1, 80, SEED_GENES, false],
      ['s2.h5ad', 1, 70, SEED_GENES, false],
      ['s3.h5ad', 1, 60, SEED_GENES - 5, false],
    ]);
    expect(seed.members.map((m) => m.uid)).toEqual(result.artifacts.map((a) => a.uid));
    expect(seed.members.reduce((sum, m) => sum + m.size, 0)).toBe(seed.size);
  }, 60_000);

  it('concatenates and appends, with typed store results and plans', async () => {
    const created = await finished(await invoke('concat:start', { collectionKey: 'seed', storeKey: 'atlas' }), 'concatenate');
    expect(created.store).toMatchObject({ key: 'atlas', version: 1, n_observations: SEED_CONCAT_CELLS, n_vars: SEED_GENES });
    expect(created.plan.n_obs).toBe(SEED_CONCAT_CELLS);
    expect(created.plan.problems).toEqual([]);

    const appended = await finished(await invoke('append:start', { storeKey: 'atlas', fileTokens: [tokenFor(inputs.s4)] }), 'append');
    expect(appended.store).toMatchObject({ key: 'atlas', version: 2, n_observations: SEED_CONCAT_CELLS + 50, n_vars: SEED_GENES + SEED_NEW_GENES.length });
    expect([appended.plan.n_new_obs, appended.plan.n_new_vars]).toEqual([50, SEED_NEW_GENES.length]);
    appendRunUid = appended.run.uid;

    const summary = await invoke('store:summary', { storeKey: 'atlas' });
    expect(summary.datasets.map((d) => [d.position, d.key])).toEqual([
      [0, 's1.h5ad'],
      [1, 's2.h5ad'],
      [2, 's3.h5ad'],
      [3, 's4.h5ad'],
    ]);
  }, 90_000);

  it('diffs two versions as a typed StoreDiff', async () => {
    const diff = await invoke('versions:diff', { storeKey: 'atlas', a: '1', b: '2' });
    expect(diff.store).toBe('atlas');
    expect([diff.a.version, diff.b.version]).toEqual([1, 2]);
    expect([diff.a.n_obs, diff.b.n_obs]).toEqual([SEED_CONCAT_CELLS, SEED_CONCAT_CELLS + 50]);
    expect(diff.cells).toEqual({ added: 50, removed: 0 });
    expect(diff.genes.RNA).toEqual({ added: SEED_NEW_GENES, removed: [] });
    expect(diff.a.n_vars.RNA).toBe(SEED_GENES);
    expect(diff.obs_columns.new_categories.find((c) => c.name === 'cell_type')?.values).toEqual(['Mono']);
    expect(diff.obsm).toEqual({ added: [], removed: [] });
    expect(diff.files.shared).toBeGreaterThan(0);
    expect(diff.files.removed).toEqual([]);
  });

  it('reads a run: transform, parameters, status, times, inputs and outputs', async () => {
    const run = await invoke('run:get', { uid: appendRunUid });
    expect(run.uid).toBe(appendRunUid);
    expect(run.transform).toEqual({ name: 'append', version: '1' });
    expect(run.status).toBe('completed');
    expect(run.error).toBeNull();
    expect(run.params).toMatchObject({ store: 'atlas', fillMissing: false, makeUnique: false });
    expect(Date.parse(run.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
    const storeInput = run.inputs.find((i) => i.artifactKind === 'store');
    expect(storeInput).toMatchObject({ kind: 'artifact', key: 'atlas', version: 1, isLatest: false, deleted: false });
    expect(run.inputs.filter((i) => i.artifactKind === 'h5ad').map((i) => i.key)).toEqual(['s4.h5ad']);
    expect(run.outputs).toEqual([expect.objectContaining({ kind: 'artifact', key: 'atlas', artifactKind: 'store', version: 2, isLatest: true })]);

    // The concatenation read the collection and its files went in through it.
    const lineage = await invoke('lineage:get', { ref: 'atlas' });
    const concatNode = lineage.nodes.find((n) => n.kind === 'run' && n.label === 'concatenate')!;
    const concat = await invoke('run:get', { uid: concatNode.id });
    expect(concat.inputs.map((i) => [i.kind, i.key])).toEqual(expect.arrayContaining([['collection', 'seed']]));
    expect(concat.params).toMatchObject({ collection: 'seed', store: 'atlas' });

    await expect(invoke('run:get', { uid: 'no-such-run' })).rejects.toThrow(/^run:get: not_found: /);
    await expect(invoke('run:get', { uid: '' } as RequestOf<'run:get'>)).rejects.toThrow('run:get: "uid" must be a string.');
  });

  it('colours by a new gene: only the appended dataset measured it, the others read "not measured"', async () => {
    const expected = runPythonJson<{ n: number; nonzero: number; max: number }>(
      `import sys, json, numpy as np, anndata as ad
a = ad.read_h5ad(sys.argv[1])
col = np.asarray(a[:, 'g40'].X.todense()).ravel()
print(json.dumps({'n': int(a.n_obs), 'nonzero': int((col > 0).sum()), 'max': float(col.max())}))`,
      [inputs.s4],
    );
    expect(expected.nonzero).toBeGreaterThan(0);
    // As stored when asked (normalize: false); the per-dataset summary is of stored values either way.
    const colours = await invoke('embedding:colors', { storeKey: 'atlas', gene: 'g40', normalize: false });
    if (colours.kind !== 'numeric') throw new Error('a gene colours numerically');
    expect([colours.min, colours.max, colours.scale]).toEqual([0, expected.max, 'as-stored']);
    expect(colours.byDataset).toEqual([
      { position: 0, key: 's1.h5ad', nCells: 80, nExpressing: 0, max: 0, measured: false },
      { position: 1, key: 's2.h5ad', nCells: 70, nExpressing: 0, max: 0, measured: false },
      { position: 2, key: 's3.h5ad', nCells: 60, nExpressing: 0, max: 0, measured: false },
      { position: 3, key: 's4.h5ad', nCells: expected.n, nExpressing: expected.nonzero, max: expected.max, measured: true },
    ]);
    // The files before s4 never had g40: their cells are NaN, not 0, and the answer says so.
    const values = new Float32Array(colours.values.buffer, colours.values.byteOffset, colours.values.byteLength / 4);
    expect(Array.from(values.subarray(0, 210)).every(Number.isNaN)).toBe(true);
    expect(Array.from(values.subarray(210)).some(Number.isNaN)).toBe(false);
    expect(colours.notMeasured).toEqual({ nCells: 210, datasets: ['s1.h5ad', 's2.h5ad', 's3.h5ad'], note: 's1.h5ad, s2.h5ad, s3.h5ad did not measure G40 (g40): 210 cells are "not measured" (NaN), not 0.' });
    // Obs columns colour without a per-dataset summary.
    const byType = await invoke('embedding:colors', { storeKey: 'atlas', obsColumn: 'n_counts' });
    expect(byType.kind === 'numeric' && byType.byDataset).toBeUndefined();
  });

  it('computes a PCA and exports a slice, each with its typed result', async () => {
    const pca = await finished(await invoke('embed:start', { storeKey: 'atlas', nComponents: 2, seed: 0 }), 'embed');
    expect(pca.store.version).toBe(3);
    expect(pca.embedding.name).toBe('pca');
    expect(pca.embedding.shape).toEqual([SEED_CONCAT_CELLS + 50, 2]);
    expect(pca.embedding.explained_variance_ratio).toHaveLength(2);
    expect(pca.embedding.explained_variance_ratio![0]!).toBeGreaterThan(pca.embedding.explained_variance_ratio![1]!);

    const exported = await finished(await invoke('export:start', { storeKey: 'atlas', obs: 'cell_type == "Mono"', format: 'csv' }), 'export');
    expect(exported.download).toBeNull();
    expect(existsSync(exported.path)).toBe(true);
    const lines = readFileSync(exported.path, 'utf8').trim().split('\n');
    expect(lines.length - 1).toBe(exported.n_obs);
    expect(exported.n_obs).toBeGreaterThan(0);
  }, 90_000);

  it('cancels a PCA: the job ends cancelled and no version is added', async () => {
    const before = await invoke('versions:list', { storeKey: 'atlas' });
    const started = await invoke('embed:start', { storeKey: 'atlas', nComponents: 20, name: 'pca_cancelled' });
    const cancelling = await invoke('jobs:cancel', { id: started.id });
    expect(cancelling.id).toBe(started.id);
    const job = (await service.jobs.wait(started.id)) as JobSnapshot;
    expect(job.state).toBe('cancelled');
    expect(job.result).toBeUndefined();
    expect(job.error?.code).toBe('cancelled');
    expect((await invoke('jobs:list', undefined)).find((j) => j.id === started.id)?.state).toBe('cancelled');
    const after = await invoke('versions:list', { storeKey: 'atlas' });
    expect(after.map((v) => v.uid)).toEqual(before.map((v) => v.uid));
    expect((await invoke('store:summary', { storeKey: 'atlas' })).obsm.map((o) => o.name)).toEqual(['pca']);
  }, 60_000);
});
