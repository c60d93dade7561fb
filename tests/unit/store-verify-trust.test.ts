// Issue 11, deliverable 2: verify trusts nothing. A manifest edited by hand (still valid
// JSON) is caught by its own inconsistency with the files it names; the registry's versions
// and the manifests are checked against each other; and verify --fix never removes a file a
// live version may need (a missing manifest's data, a reader's retired version).
import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createStoreWriter, verifyStore } from '../../src/main/engine/store';
import { acquireReaderLease } from '../../src/main/engine/store/format/lock';
import type { StoreManifest } from '../../src/main/engine/store/format/manifest';
import { csrBlocks, randomCounts, tempStoreDir } from './store-testkit';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

const matrix = randomCounts(50, 20, 4, { density: 0.3 });
const NNZ = matrix.rows.reduce((sum, row) => sum + row.columns.length, 0);

/** Version 1: 50 cells × 20 genes with X; version 2: version 1 plus an obsm. */
async function twoVersionStore(): Promise<string> {
  const { dir, cleanup } = tempStoreDir('verify-trust');
  cleanups.push(cleanup);
  const writer = await createStoreWriter({ dir, baseVersion: null });
  await writer.appendObsRows(0, { columns: [{ name: 'obs_id', column: { kind: 'string', values: Array.from({ length: 50 }, (_, i) => `c${i}`) } }] });
  await writer.appendVarRows('RNA', 0, { columns: [{ name: 'var_id', column: { kind: 'string', values: Array.from({ length: 20 }, (_, i) => `g${i}`) } }] });
  for (const block of csrBlocks(matrix, 50, 0)) await writer.appendXRows('RNA', 'data', block);
  await writer.commit();
  const writer2 = await createStoreWriter({ dir, baseVersion: 1 });
  await writer2.setObsm('RNA', 'pca', { shape: [50, 2], values: new Float64Array(100).fill(1) });
  await writer2.commit();
  return dir;
}

function editManifest(dir: string, version: number, edit: (m: StoreManifest) => void): void {
  const path = join(dir, 'manifests', `v00000${version}.json`);
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as StoreManifest;
  edit(manifest);
  writeFileSync(path, JSON.stringify(manifest));
}

function dataFiles(dir: string): string[] {
  return readdirSync(join(dir, 'data')).sort();
}

const M2 = 'manifests/v000002.json';

describe('verify checks each manifest against the files it names', () => {
  it('a hand-edited obs.nRows: no column covers the rows it claims', async () => {
    const dir = await twoVersionStore();
    editManifest(dir, 2, (m) => (m.obs.nRows = 51));
    const result = await verifyStore(dir);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([`${M2}: obs column obs_id covers 50 rows, but the manifest says the frame has 51 (nRows).`]);
    expect(result.garbage).toEqual([]);
  });

  it('a piece claiming rows another piece has, and a piece whose file holds other rows', async () => {
    const dir = await twoVersionStore();
    editManifest(dir, 1, (m) => {
      const piece = m.obs.columns[0]!.pieces[0]!;
      m.obs.columns[0]!.pieces.push({ ...piece, rowStart: 10 });
      m.ms.RNA!.var.columns[0]!.pieces[0]!.nRows = 19;
    });
    const { problems } = await verifyStore(dir);
    const obsFile = JSON.parse(readFileSync(join(dir, 'manifests', 'v000001.json'), 'utf8')).obs.columns[0].pieces[0].file as string;
    expect(problems).toEqual([
      `manifests/v000001.json: obs column obs_id: rows 10–49 are in more than one piece (${obsFile}).`,
      `manifests/v000001.json: obs column obs_id: ${obsFile} starts at row 0, the manifest says 10.`,
      `manifests/v000001.json: obs column obs_id covers 60 rows, but the manifest says the frame has 50 (nRows).`,
      expect.stringMatching(/^manifests\/v000001\.json: ms\/RNA\/var column var_id: data\/var-\w+\.arrow holds 20 rows, the manifest says 19\.$/),
      'manifests/v000001.json: ms/RNA/var column var_id covers 19 rows, but the manifest says the frame has 20 (nRows).',
    ]);
  });

  it('non-zeros: the layer total and each fragment against its chunk index', async () => {
    const dir = await twoVersionStore();
    editManifest(dir, 2, (m) => {
      m.ms.RNA!.X.data!.nnz = NNZ + 1;
      m.ms.RNA!.X.data!.fragments[0]!.nRows = 49;
    });
    const { problems } = await verifyStore(dir);
    expect(problems).toEqual([
      expect.stringMatching(new RegExp(`^${M2}: ms/RNA/X/data: data/x-\\w+\\.arrow holds 50 rows, the manifest says 49\\.$`)),
      `${M2}: ms/RNA/X/data: its fragments hold ${NNZ} non-zeros, the manifest says ${NNZ + 1}.`,
    ]);
    editManifest(dir, 2, (m) => {
      m.ms.RNA!.X.data!.nnz = NNZ - 3;
      m.ms.RNA!.X.data!.fragments[0]!.nRows = 50;
      m.ms.RNA!.X.data!.fragments[0]!.nnz = NNZ - 3;
    });
    expect((await verifyStore(dir)).problems).toEqual([expect.stringMatching(new RegExp(`^${M2}: ms/RNA/X/data: data/x-\\w+\\.arrow holds ${NNZ} non-zeros, the manifest says ${NNZ - 3}\\.$`))]);
  });

  it('joinid ranges: an obsm piece moved to other rows, and X rows beyond obs', async () => {
    const dir = await twoVersionStore();
    editManifest(dir, 2, (m) => {
      m.ms.RNA!.obsm.pca!.pieces[0]!.rowStart = 5;
      m.ms.RNA!.X.data!.fragments[0]!.rowStart = 3;
    });
    const { problems } = await verifyStore(dir);
    expect(problems).toEqual([
      expect.stringMatching(new RegExp(`^${M2}: ms/RNA/X/data: data/x-\\w+\\.arrow starts at joinid 0, the manifest says 3\\.$`)),
      `${M2}: ms/RNA/X/data has rows up to 52, but obs has 50 rows.`,
      expect.stringMatching(new RegExp(`^${M2}: ms/RNA/obsm/pca: data/obsm-\\w+\\.arrow holds rows 5–54, beyond the 50 rows\\.$`)),
      expect.stringMatching(new RegExp(`^${M2}: ms/RNA/obsm/pca: data/obsm-\\w+\\.arrow holds joinids 0–49, the manifest says 5–54\\.$`)),
    ]);
  });
});

describe('verify checks manifests and registry rows against each other', () => {
  it('a deleted latest manifest is a problem, and fix keeps its data files', async () => {
    const dir = await twoVersionStore();
    const before = dataFiles(dir);
    unlinkSync(join(dir, M2));
    const seen = await verifyStore(dir, { registry: { live: [1, 2], retired: [] } });
    expect(seen.ok).toBe(false);
    expect(seen.problems).toEqual([`Version 2 is in the registry, but its manifest ${M2} is missing: it cannot be read.`]);
    const obsm = before.filter((f) => f.startsWith('obsm-')).map((f) => `data/${f}`);
    expect(seen.garbage).toEqual(obsm);
    const fixed = await verifyStore(dir, { fix: true, registry: { live: [1, 2], retired: [] } });
    expect(fixed.removed).toEqual([]);
    expect(fixed.kept).toEqual(['Kept 1 data file(s) no manifest names: the manifest of version 2 is missing, so they may be its data.']);
    expect(dataFiles(dir)).toEqual(before);
  });

  it('an unreadable manifest protects every unnamed file too', async () => {
    const dir = await twoVersionStore();
    const before = dataFiles(dir);
    writeFileSync(join(dir, M2), '{"format": "cellar-store"');
    const fixed = await verifyStore(dir, { fix: true });
    expect(fixed.problems).toEqual([`Store manifest ${M2} is not valid JSON.`]);
    expect(fixed.removed).toEqual([]);
    expect(fixed.kept).toEqual([`Kept 1 data file(s) no manifest names: ${M2} cannot be read, so they may be its data.`]);
    expect(dataFiles(dir)).toEqual(before);
  });

  it('a manifest with no registry row below registered versions is named', async () => {
    const dir = await twoVersionStore();
    const result = await verifyStore(dir, { registry: { live: [2], retired: [] } });
    expect(result.problems).toEqual(['manifests/v000001.json (version 1) has no registry row, and the registry has later versions: it cannot be registered again.']);
  });

  it('a manifest newer than the registry (committed, not yet registered) is not a problem', async () => {
    const dir = await twoVersionStore();
    expect(await verifyStore(dir, { registry: { live: [1], retired: [] } })).toMatchObject({ ok: true, versions: [1, 2], garbage: [] });
  });

  it('a retired version left by an interrupted compact is a leftover: its manifest and only-its files go with fix, shared files stay', async () => {
    const dir = await twoVersionStore();
    // Version 1 retired, version 2 live: v2 names every file of v1, so only the manifest is a leftover.
    const registry = { live: [2], retired: [1] };
    const seen = await verifyStore(dir, { registry });
    expect(seen).toMatchObject({ ok: true, versions: [2], garbage: ['manifests/v000001.json'] });
    // Version 2 retired instead: its obsm file is named by no live manifest.
    const other = await verifyStore(dir, { registry: { live: [1], retired: [2] } });
    const obsm = dataFiles(dir).filter((f) => f.startsWith('obsm-')).map((f) => `data/${f}`);
    expect(other).toMatchObject({ ok: true, versions: [1], garbage: [M2, ...obsm] });
    const fixed = await verifyStore(dir, { fix: true, registry });
    expect(fixed.removed).toEqual(['manifests/v000001.json']);
    expect(readdirSync(join(dir, 'manifests'))).toEqual(['v000002.json']);
    expect(await verifyStore(dir, { registry })).toMatchObject({ ok: true, garbage: [] });
  });

  it('fix keeps a retired version a live reader still holds, and removes it once the reader is done', async () => {
    const dir = await twoVersionStore();
    const registry = { live: [1], retired: [2] };
    const lease = acquireReaderLease(dir, 2);
    const before = dataFiles(dir);
    const held = await verifyStore(dir, { fix: true, registry });
    expect(held.removed).toEqual([]);
    expect(held.kept).toEqual([`Kept 1 data file(s) no live version names: a reader (pid ${process.pid}) may still be reading them; run verify --fix again when it is done.`]);
    expect(existsSync(join(dir, M2))).toBe(true);
    expect(dataFiles(dir)).toEqual(before);
    lease.release();
    const fixed = await verifyStore(dir, { fix: true, registry });
    expect(fixed.removed).toEqual([M2, ...before.filter((f) => f.startsWith('obsm-')).map((f) => `data/${f}`)]);
    expect(fixed.kept).toEqual([]);
  });
});

describe('a file a manifest names is never a leftover', () => {
  it('even when the manifest does not list its checksum', async () => {
    const dir = await twoVersionStore();
    const obsm = dataFiles(dir).find((f) => f.startsWith('obsm-'))!;
    editManifest(dir, 2, (m) => delete m.files[`data/${obsm}`]);
    const fixed = await verifyStore(dir, { fix: true });
    expect(fixed.problems).toEqual([`${M2} uses data/${obsm} but does not list its checksum.`]);
    expect(fixed.garbage).toEqual([]);
    expect(fixed.removed).toEqual([]);
    expect(dataFiles(dir)).toContain(obsm);
  });
});
