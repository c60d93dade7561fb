import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createStoreWriter, verifyStore } from '../../src/main/engine/store';
import { csrBlocks, randomCounts, tempStoreDir } from './store-testkit';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

async function twoVersionStore(): Promise<string> {
  const { dir, cleanup } = tempStoreDir('verify');
  cleanups.push(cleanup);
  const matrix = randomCounts(50, 20, 4, { density: 0.3 });
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

describe('verifyStore', () => {
  it('passes a healthy store', async () => {
    const dir = await twoVersionStore();
    expect(await verifyStore(dir)).toEqual({ ok: true, versions: [1, 2], problems: [], garbage: [], removed: [], kept: [], writerActive: false });
  });

  it('names a data file whose bytes were modified, and the versions that use it', async () => {
    const dir = await twoVersionStore();
    const xFile = readdirSync(join(dir, 'data')).find((name) => name.startsWith('x-'))!;
    const path = join(dir, 'data', xFile);
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(path, bytes);
    const result = await verifyStore(dir);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([`data/${xFile} was modified: its checksum does not match the manifest (used by versions 1, 2).`]);
  });

  it('reports missing and truncated files and unreadable manifests', async () => {
    const dir = await twoVersionStore();
    const obsm = readdirSync(join(dir, 'data')).find((name) => name.startsWith('obsm-'))!;
    writeFileSync(join(dir, 'data', obsm), 'short');
    writeFileSync(join(dir, 'manifests', 'v000003.json'), '{"format": "cellar-store", "formatVersi');
    const result = await verifyStore(dir);
    expect(result.versions).toEqual([1, 2]);
    expect(result.problems).toEqual([
      'Store manifest manifests/v000003.json is not valid JSON.',
      expect.stringMatching(new RegExp(`^data/${obsm} has 5 bytes, the manifest says \\d+ \\(used by version 2\\)\\.$`)),
    ]);
  });

  it('lists files no manifest names as garbage and removes them with fix', async () => {
    const dir = await twoVersionStore();
    writeFileSync(join(dir, 'data', 'x-deadbeef.arrow'), 'partial');
    writeFileSync(join(dir, 'manifests', '.v000003.json.abc.tmp'), '{');
    const found = await verifyStore(dir);
    expect(found.ok).toBe(true);
    expect(found.garbage).toEqual(['manifests/.v000003.json.abc.tmp', 'data/x-deadbeef.arrow']);
    expect(found.removed).toEqual([]);
    const fixed = await verifyStore(dir, { fix: true });
    expect(fixed.removed).toEqual(['manifests/.v000003.json.abc.tmp', 'data/x-deadbeef.arrow']);
    expect(await verifyStore(dir)).toMatchObject({ ok: true, garbage: [] });
    expect(readdirSync(join(dir, 'manifests'))).toEqual(['v000001.json', 'v000002.json']);
  });

  it('does not remove garbage while a writer holds the store', async () => {
    const dir = await twoVersionStore();
    const writer = await createStoreWriter({ dir, baseVersion: 2 });
    await writer.setObsm('RNA', 'umap', { shape: [50, 2], values: new Float32Array(100) });
    const seen = await verifyStore(dir);
    expect(seen.writerActive).toBe(true);
    expect(seen.garbage).toHaveLength(1);
    await expect(verifyStore(dir, { fix: true })).rejects.toMatchObject({ code: 'locked' });
    await writer.commit();
    expect(await verifyStore(dir)).toMatchObject({ ok: true, versions: [1, 2, 3], garbage: [] });
  });
});
