// `cellar diff` and neighbour graphs (obsp), through the built CLI: a version whose UMAP made
// the graph first lists the graph as added beside its obsm; `cellar neighbors` adds one; a
// graph made again under the same name is changed (other parameters, or the same ones
// recomputed); a clustering that reads the graph leaves it unchanged; an append, which drops
// the graphs, lists them as removed. Text and --json, exactly.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/main/engine/store/store-reader';
import type { StoreDiff } from '../../src/shared/result-types';
import { cellar, removeDir, tempDir, type CellarResult } from './helpers/cellar';
import { makeSeedInputs, SEED_CELLS } from './helpers/workflow-inputs';

let root: string;
let home: string;
let storeDir: string;
let files: ReturnType<typeof makeSeedInputs>;
const h = () => ({ home });
const N = SEED_CELLS.s1 + SEED_CELLS.s2;

function ok<T>(r: CellarResult): T {
  expect(r.code, r.stderr).toBe(0);
  return r.json as T;
}

function diffText(a: number, b: number): string {
  const r = cellar(['diff', '--store', 'g', String(a), String(b)], h());
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trimEnd();
}

function diffJson(a: number, b: number): StoreDiff {
  return ok<StoreDiff>(cellar(['diff', '--store', 'g', String(a), String(b), '--json'], h()));
}

/** The data files of a version's graph (indices, distances), as its manifest names them. */
function graphFiles(version: number, name: string): string[] {
  const reader = openStore(storeDir, version);
  try {
    const graph = reader.manifest.ms.RNA!.obsp![name]!;
    return [...graph.indices.pieces, ...graph.distances.pieces].map((p) => p.file);
  } finally {
    reader.close();
  }
}

function obsmFiles(version: number, name: string): string[] {
  const reader = openStore(storeDir, version);
  try {
    return reader.manifest.ms.RNA!.obsm[name]!.pieces.map((p) => p.file);
  } finally {
    reader.close();
  }
}

const sorted = (xs: string[]) => [...xs].sort();

beforeAll(() => {
  root = tempDir('diff-graphs');
  home = join(root, 'home');
  files = makeSeedInputs(join(root, 'in'));
  ok(cellar(['import', files.s1, files.s2, '--collection', 'pair', '--json'], h()));
  const made = ok<{ store: { uid: string } }>(cellar(['concat', '--collection', 'pair', '--store', 'g', '--json'], h()));
  storeDir = join(home, 'stores', made.store.uid.slice(0, 16));
  ok(cellar(['embed', '--store', 'g', '--pca', '5', '--json'], h()));
}, 180_000);

afterAll(() => removeDir(root));

describe('diff of neighbour graphs', () => {
  it('a UMAP that made the graph first: X_umap added to obsm and the graph added to obsp', () => {
    const r = ok<{ store: { version: number }; umap: { graph_computed: boolean } }>(cellar(['umap', '--store', 'g', '--epochs', '50', '--json'], h()));
    expect([r.store.version, r.umap.graph_computed]).toEqual([3, true]);
    expect(diffText(2, 3)).toBe(
      [
        'g: version 2 → version 3',
        `  cells: ${N} → ${N} (+0, −0)`,
        '  RNA genes: 40 → 40 (added: —; removed: —)',
        '  obs columns: added —; removed —; changed —',
        '  obsm: added X_umap; removed —',
        '  obsp graphs: added neighbors; removed —; changed —',
        '  files: 3 added, 0 removed, 16 shared',
      ].join('\n'),
    );
    const d = diffJson(2, 3);
    expect([d.a.version, d.b.version]).toEqual([2, 3]);
    expect(d.obsm).toEqual({ added: ['X_umap'], removed: [] });
    expect(d.obsp).toEqual({ added: ['neighbors'], removed: [], changed: [] });
    expect(sorted(d.files.added)).toEqual(sorted([...graphFiles(3, 'neighbors'), ...obsmFiles(3, 'X_umap')]));
    expect(d.files.removed).toEqual([]);
  });

  it('cellar neighbors: the new graph added, the one before carried unchanged', () => {
    const r = ok<{ store: { version: number } }>(cellar(['neighbors', '--store', 'g', '--k', '10', '--name', 'knn10', '--json'], h()));
    expect(r.store.version).toBe(4);
    expect(diffText(3, 4)).toBe(
      [
        'g: version 3 → version 4',
        `  cells: ${N} → ${N} (+0, −0)`,
        '  RNA genes: 40 → 40 (added: —; removed: —)',
        '  obs columns: added —; removed —; changed —',
        '  obsm: added —; removed —',
        '  obsp graphs: added knn10; removed —; changed —',
        '  files: 2 added, 0 removed, 19 shared',
      ].join('\n'),
    );
    const d = diffJson(3, 4);
    expect(d.obsm).toEqual({ added: [], removed: [] });
    expect(d.obsp).toEqual({ added: ['knn10'], removed: [], changed: [] });
    expect(sorted(d.files.added)).toEqual(sorted(graphFiles(4, 'knn10')));
    // Over two versions: both graphs and the UMAP are new.
    const d24 = diffJson(2, 4);
    expect(d24.obsp).toEqual({ added: ['neighbors', 'knn10'], removed: [], changed: [] });
    expect(d24.obsm).toEqual({ added: ['X_umap'], removed: [] });
  });

  it('a graph made again under the same name is changed: its new parameters, or "recomputed" with the same ones', () => {
    ok(cellar(['neighbors', '--store', 'g', '--k', '8', '--metric', 'cosine', '--json'], h()));
    expect(diffText(4, 5)).toBe(
      [
        'g: version 4 → version 5',
        `  cells: ${N} → ${N} (+0, −0)`,
        '  RNA genes: 40 → 40 (added: —; removed: —)',
        '  obs columns: added —; removed —; changed —',
        '  obsm: added —; removed —',
        '  obsp graphs: added —; removed —; changed neighbors (k 15, euclidean, on pca → k 8, cosine, on pca)',
        '  files: 2 added, 2 removed, 19 shared',
      ].join('\n'),
    );
    const d45 = diffJson(4, 5);
    expect(d45.obsp).toEqual({ added: [], removed: [], changed: [{ name: 'neighbors', from: 'k 15, euclidean, on pca', to: 'k 8, cosine, on pca' }] });
    expect(sorted(d45.files.removed)).toEqual(sorted(graphFiles(4, 'neighbors')));
    expect(sorted(d45.files.added)).toEqual(sorted(graphFiles(5, 'neighbors')));

    ok(cellar(['neighbors', '--store', 'g', '--k', '8', '--metric', 'cosine', '--json'], h()));
    expect(diffText(5, 6).split('\n')[5]).toBe('  obsp graphs: added —; removed —; changed neighbors (k 8, cosine, on pca → recomputed, same parameters)');
    expect(diffJson(5, 6).obsp).toEqual({ added: [], removed: [], changed: [{ name: 'neighbors', from: 'k 8, cosine, on pca', to: 'recomputed, same parameters' }] });
  });

  it('a clustering on the stored graph leaves the graphs unchanged', () => {
    const r = ok<{ store: { version: number }; clusters: { graph_computed: boolean } }>(cellar(['cluster', '--store', 'g', '--json'], h()));
    expect([r.store.version, r.clusters.graph_computed]).toEqual([7, false]);
    const d = diffJson(6, 7);
    expect(d.obs_columns.added).toEqual(['leiden']);
    expect(d.obsp).toEqual({ added: [], removed: [], changed: [] });
    expect(diffText(6, 7).split('\n')[5]).toBe('  obsp graphs: added —; removed —; changed —');
  });

  it('an append drops the graphs: both listed as removed (and added again going back)', () => {
    const r = ok<{ store: { version: number } }>(cellar(['append', '--store', 'g', files.s3, '--fill-missing', '--json'], h()));
    expect(r.store.version).toBe(8);
    const text = diffText(7, 8).split('\n');
    expect(text.slice(0, 2)).toEqual(['g: version 7 → version 8', `  cells: ${N} → ${N + SEED_CELLS.s3} (+${SEED_CELLS.s3}, −0)`]);
    expect(text.find((l) => l.startsWith('  obsm:'))).toBe('  obsm: added —; removed —');
    expect(text.find((l) => l.startsWith('  obsp graphs:'))).toBe('  obsp graphs: added —; removed neighbors, knn10; changed —');
    expect(diffJson(7, 8).obsp).toEqual({ added: [], removed: ['neighbors', 'knn10'], changed: [] });
    expect(diffJson(8, 7).obsp).toEqual({ added: ['neighbors', 'knn10'], removed: [], changed: [] });
  });
});
