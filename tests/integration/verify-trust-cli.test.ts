// Issue 11 through the real `cellar` command: a hand-edited manifest (still valid JSON) and
// a deleted latest manifest fail `verify` (exit 1), and `verify --fix` deletes none of the
// live data it used to call leftovers; a collection without a single cell is refused by
// concat (exit 1, naming it, nothing written).
import { readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellar, removeDir, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';
import { makeSeedInputs } from './helpers/workflow-inputs';

interface ErrorJson {
  error: { code: string; message: string; problems?: string[] };
}

const MAKE_EMPTY = String.raw`
import sys, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
a = ad.AnnData(X=sp.csr_matrix((0, 12), dtype=np.float32), obs=pd.DataFrame(index=pd.Index([], dtype=str)), var=pd.DataFrame(index=[f'g{i}' for i in range(12)]))
a.write_h5ad(sys.argv[1])
print(json.dumps(True))
`;

let root: string;
let home: string;
let storeDir: string;
const h = () => ({ home });

function ok(r: CellarResult): unknown {
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

function failed(r: CellarResult): ErrorJson['error'] {
  expect(r.code, r.stderr).toBe(1);
  return (r.json as ErrorJson).error;
}

function dataFiles(): string[] {
  return readdirSync(join(storeDir, 'data')).sort();
}

beforeAll(() => {
  root = tempDir('verify-trust');
  home = join(root, 'home');
  const files = makeSeedInputs(join(root, 'in'));
  ok(cellar(['import', files.s1, files.s2, '--collection', 'pair'], h()));
  const made = ok(cellar(['concat', '--collection', 'pair', '--store', 'trust', '--json'], h())) as { store: { uid: string } };
  ok(cellar(['append', '--store', 'trust', files.s3, '--json'], h()));
  storeDir = join(home, 'stores', made.store.uid.slice(0, 16));
}, 180_000);

afterAll(() => removeDir(root));

describe('verify through the CLI', () => {
  const manifest2 = () => join(storeDir, 'manifests', 'v000002.json');

  it('a hand-edited obs.nRows fails verify, and verify --fix removes nothing', () => {
    const original = readFileSync(manifest2(), 'utf8');
    const edited = JSON.parse(original) as { obs: { nRows: number } };
    edited.obs.nRows += 7;
    writeFileSync(manifest2(), JSON.stringify(edited));
    try {
      const before = dataFiles();
      const seen = failed(cellar(['verify', '--store', 'trust', '--json'], h()));
      expect(seen.code).toBe('hash_mismatch');
      expect(seen.problems).toContain(`manifests/v000002.json: obs column obs_id covers ${edited.obs.nRows - 7} rows, but the manifest says the frame has ${edited.obs.nRows} (nRows).`);
      const fixed = failed(cellar(['verify', '--store', 'trust', '--fix', '--json'], h()));
      expect(fixed.problems).toContain('verify --fix cannot repair these problems: the files or manifests they name must come back from a copy of the store.');
      expect(dataFiles()).toEqual(before);
    } finally {
      writeFileSync(manifest2(), original);
    }
    expect(ok(cellar(['verify', '--store', 'trust', '--json'], h()))).toMatchObject({ ok: true, versions: [1, 2], garbage: [] });
  });

  it("a deleted latest manifest fails verify, and verify --fix keeps that version's files", () => {
    const original = readFileSync(manifest2());
    const before = dataFiles();
    unlinkSync(manifest2());
    try {
      const seen = failed(cellar(['verify', '--store', 'trust', '--json'], h()));
      expect(seen.problems).toEqual(['Version 2 is in the registry, but its manifest manifests/v000002.json is missing: it cannot be read.']);
      const fixed = failed(cellar(['verify', '--store', 'trust', '--fix', '--json'], h()));
      expect(fixed.problems).toEqual([
        'Version 2 is in the registry, but its manifest manifests/v000002.json is missing: it cannot be read.',
        expect.stringMatching(/^Kept \d+ data file\(s\) no manifest names: the manifest of version 2 is missing, so they may be its data\.$/),
        'verify --fix cannot repair these problems: the files or manifests they name must come back from a copy of the store.',
      ]);
      expect(dataFiles()).toEqual(before);
    } finally {
      writeFileSync(manifest2(), original);
    }
    // With its manifest back, version 2 is whole again: nothing of it was lost.
    expect(ok(cellar(['verify', '--store', 'trust', '--json'], h()))).toMatchObject({ ok: true, versions: [1, 2], garbage: [] });
    expect(ok(cellar(['query', '--store', 'trust', '--version', '2', '--out', join(root, 'v2.h5ad'), '--json'], h()))).toMatchObject({ store: { version: 2 } });
  });
});

describe('concat of a collection without a single cell', () => {
  it('is refused with exit 1, naming the collection, and writes nothing', () => {
    const file = join(root, 'in', 'empty.h5ad');
    runPythonJson(MAKE_EMPTY, [file]);
    ok(cellar(['import', file, '--collection', 'nocells'], h()));
    const storesBefore = readdirSync(join(home, 'stores')).sort();
    const listBefore = ok(cellar(['list', '--json'], h())) as { stores: unknown[] };
    const error = failed(cellar(['concat', '--collection', 'nocells', '--store', 'empty-store', '--json'], h()));
    expect(error).toEqual({ code: 'preflight_failed', message: 'The collection nocells has no cells (empty.h5ad: 0 cells), so it cannot be concatenated into a store; nothing was written. Add files with cells to it first.', problems: [] });
    expect(readdirSync(join(home, 'stores')).sort()).toEqual(storesBefore);
    expect((ok(cellar(['list', '--json'], h())) as { stores: unknown[] }).stores).toEqual(listBefore.stores);
  });
});
