// Issue 11, deliverable 4: a disk that fills while import or append copies its input into
// the home's storage says "The disk is full: could not write the copy of FILE …" (code
// no_space), not "Unexpected error: ENOSPC …", and leaves nothing behind: no partial copy,
// no artifact, no new version. The full disk is injected into node:fs/promises' copyFile.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { appendToStore } from '../../src/main/engine/ops/append';
import { concatenateCollection } from '../../src/main/engine/ops/concatenate';
import { importFiles } from '../../src/main/engine/ops/import';
import { openRegistry, type Registry } from '../../src/main/registry/registry';
import { removeDir, tempDir } from './helpers/cellar';
import { makeSeedInputs } from './helpers/workflow-inputs';

const disk = vi.hoisted(() => ({ full: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    copyFile: async (...args: Parameters<typeof actual.copyFile>) => {
      if (disk.full) throw Object.assign(new Error(`ENOSPC: no space left on device, copyfile '${String(args[0])}'`), { code: 'ENOSPC', errno: -28, syscall: 'copyfile' });
      return actual.copyFile(...args);
    },
  };
});

let root: string;
let home: string;
let registry: Registry;
let files: ReturnType<typeof makeSeedInputs>;

function storage(): string[] {
  const dir = join(home, 'storage');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

beforeAll(async () => {
  root = tempDir('disk-full-copy');
  home = join(root, 'home');
  files = makeSeedInputs(join(root, 'in'));
  registry = openRegistry(home);
  await importFiles({ registry, home, files: [files.s1, files.s2], collectionKey: 'pair' });
  await concatenateCollection({ registry, home, collectionKey: 'pair', storeKey: 'full' });
}, 120_000);

afterAll(() => {
  disk.full = false;
  registry?.close();
  removeDir(root);
});

describe('a disk that fills while copying an input', () => {
  it('import: "The disk is full: …" naming the file, and nothing is registered or left', async () => {
    const artifacts = registry.listArtifacts({ allVersions: true }).length;
    const before = storage();
    disk.full = true;
    try {
      await expect(importFiles({ registry, home, files: [files.s3], collectionKey: 'more' })).rejects.toMatchObject({
        code: 'no_space',
        message: "The disk is full: could not write the copy of s3.h5ad in the home's storage.",
      });
    } finally {
      disk.full = false;
    }
    expect(registry.listArtifacts({ allVersions: true })).toHaveLength(artifacts);
    expect(registry.findCollection('more')).toBeNull();
    expect(storage()).toEqual(before);
    expect(registry.listRuns()[0]).toMatchObject({ status: 'failed', error: "The disk is full: could not write the copy of s3.h5ad in the home's storage." });
  });

  it('append: the same message, and the store stays at its version', async () => {
    const before = storage();
    disk.full = true;
    try {
      await expect(appendToStore({ registry, home, storeKey: 'full', files: [files.s3] })).rejects.toMatchObject({
        code: 'no_space',
        message: "The disk is full: could not write the copy of s3.h5ad in the home's storage.",
      });
    } finally {
      disk.full = false;
    }
    expect(registry.versions('full').map((v) => v.version)).toEqual([1]);
    expect(storage()).toEqual(before);
  });
});
