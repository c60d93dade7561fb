// Import copies each file into the home's storage and hashes it in one read, while the files
// are checked in a worker: the registered hash is the file's lamindb hash, the stored copy is
// the file byte for byte, a file already in the home leaves no second copy, and a batch with a
// bad file leaves no staged copy behind.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../src/main/engine/ops/import';
import { hashFile } from '../../src/main/registry/hash';
import { openRegistry, type Registry } from '../../src/main/registry/registry';
import { removeDir, tempDir } from './helpers/cellar';
import { makeSeedInputs } from './helpers/workflow-inputs';

let root: string;
let home: string;
let files: ReturnType<typeof makeSeedInputs>;
let registry: Registry;
const storage = () => (existsSync(join(home, 'storage')) ? readdirSync(join(home, 'storage')).sort() : []);

beforeAll(() => {
  root = tempDir('import-one-read');
  home = join(root, 'home');
  files = makeSeedInputs(join(root, 'in'));
  registry = openRegistry(home);
}, 120_000);

afterAll(() => {
  registry?.close();
  removeDir(root);
});

describe('import: copy and hash in one read', () => {
  it('registers the lamindb hash of each file and stores an identical copy under its final name', async () => {
    const result = await importFiles({ registry, home, files: [files.s1, files.s2], collectionKey: 'pair' });
    expect(result.artifacts.map((a) => a.existing)).toEqual([false, false]);
    for (const [i, path] of [files.s1, files.s2].entries()) {
      const expected = await hashFile(path);
      const artifact = registry.listArtifacts({ allVersions: true }).find((a) => a.uid === result.artifacts[i]!.uid)!;
      expect({ hash: artifact.hash, hashType: artifact.hashType, size: artifact.size }).toEqual(expected);
      expect(artifact.storagePath).toBe(join(home, 'storage', `${result.run.uid}-${i}.h5ad`));
      expect(readFileSync(artifact.storagePath).equals(readFileSync(path))).toBe(true);
    }
    expect(storage()).toEqual([`${result.run.uid}-0.h5ad`, `${result.run.uid}-1.h5ad`]);
  });

  it('a file already in the home is not stored twice', async () => {
    const before = storage();
    const result = await importFiles({ registry, home, files: [files.s1], collectionKey: 'again' });
    expect(result.artifacts[0]!.existing).toBe(true);
    expect(storage()).toEqual(before);
  });

  it('a batch with a bad file registers nothing and leaves no copy, staged or final', async () => {
    const before = storage();
    const artifacts = registry.listArtifacts({ allVersions: true }).length;
    const bad = join(root, 'in', 'not-hdf5.h5ad');
    writeFileSync(bad, Buffer.alloc(64 * 1024, 1));
    await expect(importFiles({ registry, home, files: [files.s3, bad, files.s4], collectionKey: 'mixed' })).rejects.toMatchObject({ code: 'not_hdf5' });
    expect(storage()).toEqual(before);
    expect(registry.listArtifacts({ allVersions: true })).toHaveLength(artifacts);
    expect(registry.findCollection('mixed')).toBeNull();
  });

  it('an import cancelled before it starts copies nothing, registers nothing and ends its run cancelled', async () => {
    const before = storage();
    const artifacts = registry.listArtifacts({ allVersions: true }).length;
    const controller = new AbortController();
    controller.abort();
    await expect(importFiles({ registry, home, files: [files.s4], collectionKey: 'cancelled', signal: controller.signal })).rejects.toMatchObject({ code: 'cancelled' });
    expect(storage()).toEqual(before);
    expect(registry.listArtifacts({ allVersions: true })).toHaveLength(artifacts);
    expect(registry.findCollection('cancelled')).toBeNull();
    expect(registry.listRuns()[0]).toMatchObject({ status: 'cancelled' });
  });

  it('linking hashes the files in place and copies nothing', async () => {
    const before = storage();
    const result = await importFiles({ registry, home, files: [files.s3], collectionKey: 'linked', link: true });
    const artifact = registry.listArtifacts({ allVersions: true }).find((a) => a.uid === result.artifacts[0]!.uid)!;
    expect(artifact.storagePath).toBe(files.s3);
    expect(artifact.hash).toBe((await hashFile(files.s3)).hash);
    expect(storage()).toEqual(before);
  });
});
