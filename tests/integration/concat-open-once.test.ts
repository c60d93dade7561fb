// Concatenation opens each .h5ad member once: the file read for the plan stays open for the
// copy (OpenMembers), and every file it opened is closed at the end, also when the write fails.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistry } from '../../src/main/registry/registry';
import { importFiles } from '../../src/main/engine/ops/import';
import { concatenateCollection, OpenMembers } from '../../src/main/engine/ops/concatenate';
import type { DatasetFile } from '../../src/main/engine/formats/source';
import { runPythonJson } from './helpers/python';

const counts = vi.hoisted(() => ({ opens: new Map<string, number>(), closes: new Map<string, number>() }));

vi.mock('../../src/main/engine/formats/open-dataset', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/main/engine/formats/open-dataset')>();
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  return {
    ...actual,
    openDataset: async (path: string) => {
      const file = await actual.openDataset(path);
      bump(counts.opens, path);
      const close = file.close.bind(file);
      file.close = () => {
        bump(counts.closes, path);
        close();
      };
      return file;
    },
  };
});

let dir: string;
const names = Array.from({ length: 9 }, (_, k) => String.fromCharCode(97 + k)); // a … i

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cellar-open-once-'));
  await runPythonJson(
    `
import sys, json, numpy as np, pandas as pd, anndata as ad, scipy.sparse as sp
out = sys.argv[1]
for k, name in enumerate('abcdefghi'):
    X = sp.random(50 + k, 6, density=0.5, format='csr', random_state=k, dtype=np.float32)
    X.data = np.ceil(X.data * 9)
    obs = pd.DataFrame({'batch': pd.Categorical([name] * (50 + k))}, index=[f'{name}{i}' for i in range(50 + k)])
    ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=[f'g{j}' for j in range(6)])).write_h5ad(f'{out}/{name}.h5ad')
print(json.dumps({}))
`,
    [dir],
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function concatInFreshHome(name: string, files: string[], checkpoint?: (point: string) => void) {
  const home = join(dir, name);
  const registry = openRegistry(home);
  try {
    await importFiles({ registry, home, files: files.map((f) => join(dir, `${f}.h5ad`)), collectionKey: 'c' });
    const members = registry.getCollection('c').members.map((m) => m.storagePath);
    counts.opens.clear();
    counts.closes.clear();
    const outcome = await concatenateCollection({ registry, home, collectionKey: 'c', storeKey: 's', checkpoint }).then(
      (result) => ({ result, error: undefined }),
      (error: unknown) => ({ result: undefined, error }),
    );
    return { members, outcome };
  } finally {
    registry.close();
  }
}

describe('concatenation opens each member once', () => {
  it('reads the plan and copies from the same open file, and closes each file once', async () => {
    const { members, outcome } = await concatInFreshHome('ok', names.slice(0, 3));
    expect(outcome.error).toBeUndefined();
    expect(outcome.result).toMatchObject({ store: { n_observations: 50 + 51 + 52, n_vars: 6 } });
    expect(members).toHaveLength(3);
    for (const path of members) {
      expect(counts.opens.get(path), path).toBe(1);
      expect(counts.closes.get(path), path).toBe(1);
    }
  });

  it('closes every open member when the copy fails part-way', async () => {
    const { members, outcome } = await concatInFreshHome('fails', names.slice(0, 3), (point) => {
      if (point === 'after-dataset-0') throw new Error('stopped after the first file');
    });
    expect((outcome.error as Error).message).toBe('stopped after the first file');
    for (const path of members) {
      expect(counts.opens.get(path), path).toBe(1);
      expect(counts.closes.get(path), path).toBe(1);
    }
  });

  it('keeps nothing open for a collection of more than MAX_OPEN_MEMBERS files, and closes each file it opens', async () => {
    expect(names.length).toBe(OpenMembers.MAX_OPEN_MEMBERS + 1);
    const { members, outcome } = await concatInFreshHome('many', names);
    expect(outcome.result).toMatchObject({ store: { n_observations: names.reduce((n, _, k) => n + 50 + k, 0) } });
    for (const path of members) {
      // Read for the plan, then again to copy it (and the first file once more for its genes).
      expect(counts.opens.get(path), path).toBeGreaterThanOrEqual(2);
      expect(counts.closes.get(path), path).toBe(counts.opens.get(path));
    }
  });
});

describe('OpenMembers', () => {
  const fake = (format: string) => {
    let closed = 0;
    return { file: { format, close: () => void closed++ } as unknown as DatasetFile, closed: () => closed };
  };

  it('keeps .h5ad files only, at most MAX_OPEN_MEMBERS, and closes what it kept', async () => {
    const members = new OpenMembers();
    const kept = Array.from({ length: OpenMembers.MAX_OPEN_MEMBERS }, () => fake('h5ad'));
    kept.forEach((k, i) => expect(members.keep(`/f${i}.h5ad`, k.file)).toBe(true));
    expect(members.keep('/one-more.h5ad', fake('h5ad').file)).toBe(false);
    expect(new OpenMembers().keep('/matrix.h5', fake('10x').file)).toBe(false);
    expect(members.keep('/f0.h5ad', fake('h5ad').file)).toBe(false);
    expect(members.size).toBe(OpenMembers.MAX_OPEN_MEMBERS);
    // A kept file is used as it is, not opened again or closed after the use.
    expect(await members.use('/f3.h5ad', (file) => file)).toBe(kept[3]!.file);
    expect(kept[3]!.closed()).toBe(0);
    members.closeAll();
    expect(kept.every((k) => k.closed() === 1)).toBe(true);
    expect(members.size).toBe(0);
  });
});
