// The CLI's housekeeping operations through the service's contract, on real anndata files:
// delete (refused while something was made from it, forced only when asked, tombstone in
// lineage), rename, annotate from a CSV (preview with the id-match report, then the write),
// verify and repair, compact (only when confirmed), remove a file from a collection, open an
// imported file as a token for the inspector and append, and the list of exports. Bad input
// gets a clear message and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createService, type Service } from '../../src/main/service/handlers';
import { contractCaller } from './helpers/service';
import type { JobSnapshot } from '../../src/shared/contract';
import { makeSeedInputs, SEED_CONCAT_CELLS } from './helpers/workflow-inputs';

let home: string;
let data: string;
let service: Service;
let inputs: ReturnType<typeof makeSeedInputs>;
const files = new Map<string, string>();
const { invoke, refused, tokenFor, finished } = contractCaller(() => service, files);
const offered: string[] = [];

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cellar-ops-home-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-ops-data-'));
  inputs = makeSeedInputs(data);
  service = createService({ home, mode: 'browser', version: '0.1.0', files, offerDownload: (path) => (offered.push(path), `/api/download/${offered.length}`) });
  await finished(await invoke('import:start', { fileTokens: [inputs.s1, inputs.s2, inputs.s3].map(tokenFor), collectionKey: 'seed' }), 'import');
  await finished(await invoke('concat:start', { collectionKey: 'seed', storeKey: 'atlas' }), 'concatenate');
}, 120_000);

afterAll(() => {
  service?.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

const versions = async (storeKey: string) => (await invoke('versions:list', { storeKey })).map((v) => v.version).sort();

describe('housekeeping through the contract', () => {
  it('opens an imported file as a token the inspector reads, and refuses stores and unknown keys', async () => {
    const opened = await invoke('artifact:inspect', { ref: 's2.h5ad' });
    expect(opened.artifactKey).toBe('s2.h5ad');
    expect(opened.name).toBe('s2.h5ad');
    const summary = await invoke('file:inspect', { fileToken: opened.fileToken });
    expect([summary.n_obs, summary.n_vars]).toEqual([70, 40]);
    expect(summary.obs.map((c) => c.name)).toEqual(['cell_type', 'donor', 'n_counts']);
    expect((await refused('artifact:inspect', { ref: 'atlas' })).message).toBe('atlas is a store, not a file: open it on the Store screen.');
    expect((await refused('artifact:inspect', { ref: 'nope.h5ad' })).message).toBe('There is no file called nope.h5ad in the Library.');
  });

  it('appends a file already in the Library through its token: no second copy, the same artifact', async () => {
    const before = (await invoke('library:list', undefined)).artifacts.length;
    const opened = await invoke('artifact:inspect', { ref: 's1.h5ad' });
    const plan = await invoke('append:preflight', { storeKey: 'atlas', fileTokens: [opened.fileToken], makeUnique: true });
    expect(plan.problems).toEqual([]);
    expect(plan.n_new_obs).toBe(80);
    const appended = await finished(await invoke('append:start', { storeKey: 'atlas', fileTokens: [opened.fileToken], makeUnique: true }), 'append');
    expect(appended.store.version).toBe(2);
    expect(appended.store.n_observations).toBe(SEED_CONCAT_CELLS + 80);
    expect((await invoke('library:list', undefined)).artifacts.length).toBe(before);
  }, 60_000);

  it('previews an annotation CSV: matched, missing and unknown ids, column types; writes nothing', async () => {
    const csv = join(data, 'labels.csv');
    writeFileSync(csv, 'obs_id,label,score\na0,T cell,1.5\na1,B cell,2\na2,T cell,\nzz-unknown,NK,3\n');
    const preview = await invoke('annotate:preview', { storeKey: 'atlas', fileToken: tokenFor(csv) });
    expect(preview.file).toBe('labels.csv');
    expect(preview.store).toMatchObject({ key: 'atlas', version: 2, n_obs: SEED_CONCAT_CELLS + 80 });
    expect([preview.n_rows, preview.n_matched, preview.n_unknown, preview.n_missing]).toEqual([4, 3, 1, SEED_CONCAT_CELLS + 80 - 3]);
    expect(preview.unknown_ids).toEqual(['zz-unknown']);
    expect(preview.columns.map((c) => [c.name, c.dtype, c.replaced])).toEqual([
      ['label', 'category', false],
      ['score', 'float64', false],
    ]);
    expect(preview.columns[0]!.examples).toEqual(['T cell', 'B cell', 'NK']);
    expect(preview.problems).toEqual(['1 obs_id in labels.csv is not in the store atlas.']);
    // Writing it is refused with the same report, and no version appears.
    const job = (await service.jobs.wait((await invoke('annotate:start', { storeKey: 'atlas', fileToken: tokenFor(csv) })).id)) as JobSnapshot;
    expect(job.state).toBe('failed');
    expect(job.error?.code).toBe('id_mismatch');
    expect(job.error?.message).toBe('1 obs_id in labels.csv is not in the store atlas.');
    expect(await versions('atlas')).toEqual([1, 2]);
  }, 60_000);

  it('annotates from a CSV whose ids all match: a new version with the columns, NA elsewhere', async () => {
    const csv = join(data, 'good.csv');
    writeFileSync(csv, 'obs_id,label\na0,T cell\nb0,B cell\n');
    const preview = await invoke('annotate:preview', { storeKey: 'atlas', fileToken: tokenFor(csv) });
    expect(preview.problems).toEqual([]);
    expect(preview.n_matched).toBe(2);
    const r = await finished(await invoke('annotate:start', { storeKey: 'atlas', fileToken: tokenFor(csv) }), 'annotate');
    expect(r.store.version).toBe(3);
    expect([r.n_matched, r.n_missing]).toEqual([2, SEED_CONCAT_CELLS + 80 - 2]);
    expect(r.columns).toEqual([{ name: 'label', dtype: 'category', replaced: false }]);
    expect((await invoke('store:count', { storeKey: 'atlas', obs: 'label == "B cell"' })).nObs).toBe(1);
  }, 60_000);

  it('verifies a sound store, finds a hand-modified file, and repair removes leftovers only', async () => {
    const ok = await finished(await invoke('store:verify', { storeKey: 'atlas' }), 'verify');
    expect(ok.ok).toBe(true);
    expect(ok.versions).toEqual([1, 2, 3]);
    expect(ok.problems).toEqual([]);
    // A leftover of an interrupted write: reported, then removed by the repair.
    const store = (await invoke('library:list', undefined)).stores.find((s) => s.key === 'atlas')!;
    const dataDir = join(store.storagePath, 'data');
    writeFileSync(join(dataDir, 'leftover.bin'), 'x');
    const found = await finished(await invoke('store:verify', { storeKey: 'atlas' }), 'verify');
    expect(found.ok).toBe(true);
    expect(found.garbage).toEqual(['data/leftover.bin']);
    const repaired = await finished(await invoke('store:verify', { storeKey: 'atlas', fix: true }), 'verify');
    expect(repaired.repaired).toBe(true);
    expect(repaired.removed).toEqual(['data/leftover.bin']);
    expect(existsSync(join(dataDir, 'leftover.bin'))).toBe(false);
    // A data file changed by hand: verify names it, and a repair cannot make it right.
    const victim = join(dataDir, readdirSync(dataDir).find((n) => !n.startsWith('.'))!);
    const original = readFileSync(victim);
    appendFileSync(victim, 'tampered');
    const bad = await finished(await invoke('store:verify', { storeKey: 'atlas', fix: true }), 'verify');
    expect(bad.ok).toBe(false);
    expect(bad.problems.length).toBeGreaterThan(0);
    expect(bad.problems.join('\n')).toContain(basename(victim));
    expect(existsSync(victim)).toBe(true);
    writeFileSync(victim, original);
    expect((await finished(await invoke('store:verify', { storeKey: 'atlas' }), 'verify')).ok).toBe(true);
    expect((await refused('store:verify', { storeKey: 'nostore' })).code).toBe('not_found');
  }, 60_000);

  it('removes a file from a collection (the file stays in the Library) and refuses an unknown one', async () => {
    const r = await invoke('collection:remove-member', { collectionKey: 'seed', member: 's3.h5ad' });
    expect(r.members).toEqual(['s1.h5ad', 's2.h5ad']);
    const library = await invoke('library:list', undefined);
    expect(library.collections.find((c) => c.key === 'seed')!.members.map((m) => m.key)).toEqual(['s1.h5ad', 's2.h5ad']);
    expect(library.artifacts.map((a) => a.key)).toContain('s3.h5ad');
    const error = await refused('collection:remove-member', { collectionKey: 'seed', member: 's3.h5ad' });
    expect(error.message).toBe('The collection "seed" has no member "s3.h5ad"; its members are s1.h5ad, s2.h5ad.');
  });

  it('renames a store and refuses a key already taken, changing nothing', async () => {
    expect(await invoke('artifact:rename', { ref: 'atlas', newKey: 'pbmc_atlas' })).toMatchObject({ kind: 'artifact', key: 'pbmc_atlas' });
    expect(await versions('pbmc_atlas')).toEqual([1, 2, 3]);
    const error = await refused('artifact:rename', { ref: 'pbmc_atlas', newKey: 'seed' });
    expect(error.code).toBe('already_exists');
    expect((await invoke('library:list', undefined)).stores.map((s) => s.key)).toEqual(['pbmc_atlas']);
  });

  it('compacts only when confirmed, drops the older versions and says the space', async () => {
    const refusedCompact = await refused('store:compact', { storeKey: 'pbmc_atlas', confirm: false });
    expect(refusedCompact.message).toBe('Compacting pbmc_atlas drops every older version; confirm to go ahead.');
    expect((await refused('store:compact', { storeKey: 'pbmc_atlas' } as never)).message).toBe('store:compact: "confirm" must be a boolean.');
    const r = await finished(await invoke('store:compact', { storeKey: 'pbmc_atlas', confirm: true }), 'compact');
    expect(r.dropped_versions).toBeGreaterThan(0);
    expect(r.bytes_before).toBeGreaterThan(0);
    expect(r.bytes_after).toBeGreaterThan(0);
    expect((await invoke('versions:list', { storeKey: 'pbmc_atlas' })).length).toBe(1);
  }, 60_000);

  it('lists the exports kept in the home, each with a download reference', async () => {
    expect(await invoke('export:list', undefined)).toEqual([]);
    const exported = await finished(await invoke('export:start', { storeKey: 'pbmc_atlas', format: 'csv' }), 'export');
    const list = await invoke('export:list', undefined);
    expect(list.map((e) => e.name)).toEqual(['pbmc_atlas-slice.csv']);
    expect(list[0]!.download).toBe(exported.download === null ? null : list[0]!.download);
    expect(offered).toContain(exported.path);
    expect(list[0]!.size).toBeGreaterThan(0);
    // Asked twice, the same reference.
    expect((await invoke('export:list', undefined))[0]!.download).toBe(list[0]!.download);
  }, 60_000);

  it('refuses to delete what something was made from, deletes with force, and keeps a tombstone', async () => {
    const error = await refused('artifact:delete', { ref: 's1.h5ad' });
    expect(error.code).toBe('in_use');
    expect(error.message).toMatch(/^Cannot delete artifact "s1\.h5ad".*delete those first or pass --force/);
    expect((await invoke('library:list', undefined)).artifacts.map((a) => a.key)).toContain('s1.h5ad');
    const forced = await invoke('artifact:delete', { ref: 's1.h5ad', force: true });
    expect(forced.deleted.map((d) => d.key)).toEqual(['s1.h5ad']);
    expect(forced.overridden.length).toBeGreaterThan(0);
    expect((await invoke('library:list', undefined)).artifacts.map((a) => a.key)).not.toContain('s1.h5ad');
    const lineage = await invoke('lineage:get', { ref: 'pbmc_atlas' });
    expect(lineage.nodes.some((n) => n.label === 's1.h5ad (deleted)')).toBe(true);
    const store = await invoke('artifact:delete', { ref: 'pbmc_atlas' });
    expect(store.deleted.every((d) => d.key === 'pbmc_atlas')).toBe(true);
    expect(store.removedFiles).toBe(1);
    expect((await invoke('library:list', undefined)).stores).toEqual([]);
    expect((await refused('artifact:delete', { ref: 'pbmc_atlas' })).code).toBe('not_found');
  }, 60_000);

});
