// Selections through the service, as the Embeddings screen sends them: saved as a categorical
// obs column of a new version (with the drawing in the run's parameters), refused with a clear
// sentence when they name cells the store lacks or one cell twice; differential expression by
// joinids agrees with the same cells named by a filter; the PCA's explained variance is still
// found after later versions; the dataset column colours by file name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { createService, type Service } from '../../src/main/service/handlers';
import { contractCaller } from './helpers/service';
import type { JobSnapshot } from '../../src/shared/contract';
import { makeSeedInputs, SEED_CONCAT_CELLS } from './helpers/workflow-inputs';

let home: string;
let data: string;
let service: Service;
const files = new Map<string, string>();
const { invoke, tokenFor, finished } = contractCaller(() => service, files);
let explained: number[] = [];

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cellar-selection-home-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-selection-data-'));
  const inputs = makeSeedInputs(data);
  service = createService({ home, mode: 'desktop', version: '0.1.0', files });
  await finished(await invoke('import:start', { fileTokens: [inputs.s1, inputs.s2, inputs.s3].map(tokenFor), collectionKey: 'seed' }), 'import');
  await finished(await invoke('concat:start', { collectionKey: 'seed', storeKey: 'atlas' }), 'concatenate');
  const pca = await finished(await invoke('embed:start', { storeKey: 'atlas', nComponents: 3, seed: 0 }), 'embed');
  explained = pca.embedding.explained_variance_ratio!;
}, 180_000);

afterAll(() => {
  service?.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

/** A job that must fail: its error. */
async function failed(started: JobSnapshot) {
  const job = (await service.jobs.wait(started.id)) as JobSnapshot;
  expect(job.state).toBe('failed');
  return job.error!;
}

const groupA = [0, 1, 2, 5, 8, 13, 21, 34, 55, 89];
const groupB = [100, 101, 102, 103, 150, 151, 152, 200, 201, 209];

describe('selections through the service', () => {
  it('saves two labelled selections as a categorical column of a new version, recording how they were drawn', async () => {
    const saved = await finished(
      await invoke('selection:save', {
        storeKey: 'atlas',
        column: 'picked',
        groups: [
          { label: 'A', joinids: groupA },
          { label: 'B', joinids: groupB },
        ],
        embedding: 'pca',
        version: 2,
        polygons: [[0, 0, 1, 0, 1, 1]],
      }),
      'annotate',
    );
    expect(saved.store.version).toBe(3);
    expect(saved.columns).toEqual([{ name: 'picked', dtype: 'category', replaced: false }]);
    expect([saved.n_matched, saved.n_missing]).toEqual([20, SEED_CONCAT_CELLS - 20]);

    const summary = await invoke('store:summary', { storeKey: 'atlas' });
    expect(summary.obs.find((c) => c.name === 'picked')).toMatchObject({ dtype: 'category', categories: ['A', 'B'] });
    // The PCA was computed in version 2; version 3 finds its explained variance through its parent.
    expect(summary.obsm).toEqual([{ name: 'pca', width: 3, explainedVarianceRatio: explained }]);

    const window = await invoke('store:obs-window', { storeKey: 'atlas', obs: 'picked == "B"', offset: 0, limit: 100 });
    expect(Array.from(tableFromIPC(window.arrow).getChild('soma_joinid')!.toArray() as ArrayLike<bigint | number>, Number)).toEqual(groupB);
    expect((await invoke('store:count', { storeKey: 'atlas', obs: 'isna(picked)' })).nObs).toBe(SEED_CONCAT_CELLS - 20);

    const lineage = await invoke('lineage:get', { ref: 'atlas' });
    const runNode = lineage.nodes.find((n) => n.kind === 'run' && n.label === 'annotate')!;
    const run = await invoke('run:get', { uid: runNode.id });
    expect(run.params).toMatchObject({ store: 'atlas', columns: ['picked'], selection: { column: 'picked', labels: ['A', 'B'], rest: null, n_cells: [10, 10], embedding: 'pca', version: 2, polygons: [[0, 0, 1, 0, 1, 1]] } });
  }, 60_000);

  it('refuses cells the store lacks, a cell in two groups and a column Cellar keeps, writing nothing', async () => {
    const outside = await failed(await invoke('selection:save', { storeKey: 'atlas', column: 'x', groups: [{ label: 'A', joinids: [3, SEED_CONCAT_CELLS] }] }));
    expect(outside.message).toBe(`Cell ${SEED_CONCAT_CELLS} is not in atlas (it has ${SEED_CONCAT_CELLS} cells, joinids 0 to ${SEED_CONCAT_CELLS - 1}).`);
    const twice = await failed(
      await invoke('selection:save', {
        storeKey: 'atlas',
        column: 'x',
        groups: [
          { label: 'A', joinids: [3, 4] },
          { label: 'B', joinids: [4, 5] },
        ],
      }),
    );
    expect(twice.message).toBe('Cell 4 is in two selections (or twice in one); each cell can have one label.');
    const reserved = await failed(await invoke('selection:save', { storeKey: 'atlas', column: 'obs_id', groups: [{ label: 'A', joinids: [3] }] }));
    expect(reserved.message).toBe('obs_id is maintained by Cellar itself; save the selection under another name.');
    const sameLabel = await failed(await invoke('selection:save', { storeKey: 'atlas', column: 'x', groups: [{ label: 'A', joinids: [3] }], restLabel: 'A' }));
    expect(sameLabel.message).toBe('The label "A" is given twice; each group needs its own.');
    expect((await invoke('versions:list', { storeKey: 'atlas' }))[0]!.version).toBe(3);
  }, 60_000);

  it('tests cells named by joinid exactly as the same cells named by a filter', async () => {
    const byJoinid = await finished(await invoke('de:start', { storeKey: 'atlas', obsJoinids: groupA, referenceJoinids: groupB, groupName: 'A', referenceName: 'B' }), 'de');
    const byFilter = await finished(await invoke('de:start', { storeKey: 'atlas', obs: `soma_joinid in [${groupA.join(', ')}]`, referenceObs: 'picked == "B"' }), 'de');
    expect([byJoinid.group, byJoinid.reference]).toEqual([
      { label: 'A', n_cells: 10 },
      { label: 'B', n_cells: 10 },
    ]);
    expect(byJoinid.top).toEqual(byFilter.top);
    const rest = await finished(await invoke('de:start', { storeKey: 'atlas', obsJoinids: groupA }), 'de');
    expect([rest.group, rest.reference]).toEqual([
      { label: '10 selected cells', n_cells: 10 },
      { label: 'rest', n_cells: SEED_CONCAT_CELLS - 10 },
    ]);
    const overlap = await failed(await invoke('de:start', { storeKey: 'atlas', obsJoinids: [1, 2], referenceJoinids: [2, 3] }));
    expect(overlap.message).toBe('Cell 2 is in both the group and the reference; the two groups must not overlap.');
    const mixed = await failed(await invoke('de:start', { storeKey: 'atlas', obsJoinids: [1], groupby: 'cell_type', group: 'B' }));
    expect(mixed.message).toBe('Name the group either by its cells or by a filter or column value, not both.');
  }, 120_000);

  it('colours the dataset column by file name', async () => {
    const colours = await invoke('embedding:colors', { storeKey: 'atlas', obsColumn: 'dataset' });
    if (colours.kind !== 'category') throw new Error('datasets are categories');
    expect(colours.categories).toEqual(['s1.h5ad', 's2.h5ad', 's3.h5ad']);
  });
});
