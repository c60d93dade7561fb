// Genes matched across datasets, through the built CLI (and the service for the explorer's
// channels), on small files written by anndata: Ensembl ids with different versions, symbols
// under different var column names, a gene one dataset lacks. Checks the plan, the store's var
// and feature presence table, values read back by anndata against anndata's own concatenation,
// names resolved as id then symbol, and every bad input with its message and nothing written.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/main/service/handlers';
import type { GeneHit, PlanReport } from '../../src/shared/contract';
import { cellar, firstLine, removeDir, snapshotTree, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';
import { contractCaller } from './helpers/service';
import { registerArrowCodecs } from '../../src/main/engine/store/io/codecs';

/**
 * a.h5ad: 6 genes, ids with version .17, symbols in `gene_symbols` (DUP names two genes).
 * b.h5ad: the same genes but gene 3 with version .16, in another order, symbols in
 * `feature_name`, plus gene 7 that a lacks. clash.h5ad: two versions of gene 1 in one file.
 * c.h5ad (appended): unversioned ids, symbols in `gene_name`, gene 3 and 1 and a new gene 8.
 */
const MAKE_INPUTS = String.raw`
import sys, os, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(3)
def gid(k, v): return f'ENSG{k:011d}.{v}'
def write(name, ids, symcol, syms, n, prefix):
    X = rng.poisson(2.0, size=(n, len(ids))).astype(np.float32)
    var = pd.DataFrame({symcol: syms}, index=ids)
    obs = pd.DataFrame({'cell_type': pd.Categorical(['T', 'B'] * (n // 2) + ['T'] * (n % 2))}, index=[f'{prefix}{i}' for i in range(n)])
    ad.AnnData(X=sp.csr_matrix(X), obs=obs, var=var, dtype=np.float32).write_h5ad(os.path.join(out, name))
write('a.h5ad', [gid(k, 17) for k in (1, 2, 3, 4, 5, 6)], 'gene_symbols', ['TP53', 'CD3E', 'MS4A1', 'GAPDH', 'DUP', 'DUP'], 5, 'a')
write('b.h5ad', [gid(7, 1), gid(4, 16), gid(1, 16), gid(2, 16), gid(6, 16), gid(5, 16)], 'feature_name', ['NEWG', 'GAPDH', 'TP53', 'CD3E', 'DUP', 'DUP'], 4, 'b')
write('clash.h5ad', [gid(1, 1), gid(1, 2), gid(2, 16)], 'gene_name', ['TP53', 'TP53-alt', 'CD3E'], 3, 'c')
write('c.h5ad', ['ENSG00000000003', 'ENSG00000000001', 'ENSG00000000008'], 'gene_name', ['MS4A1', 'TP53', 'EIGHT'], 3, 'x')
print(json.dumps({'ok': True}))
`;

/**
 * anndata's reading of an export against anndata's own concatenation of the inputs, with var
 * names stripped of their version for matching (argv: export, join, inputs...). Returns the
 * export's var, its uns note, and whether X equals anndata.concat's (outer: 0 where absent).
 */
const COMPARE = String.raw`
import sys, json, re
import numpy as np, pandas as pd, anndata as ad
path, join, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
strip = lambda i: re.sub(r'^(ENSG\d+)\.\d+$', r'\1', i)
parts = []
for f in inputs:
    a = ad.read_h5ad(f)
    a.var_names = [strip(v) for v in a.var_names]
    a.var = a.var[[]]
    parts.append(a)
expected = ad.concat(parts, join=join)
ours = ad.read_h5ad(path)
keys = [strip(v) for v in ours.var_names]
E = pd.DataFrame(expected.X.toarray(), index=expected.obs_names, columns=expected.var_names)
O = pd.DataFrame(ours.X.toarray(), index=ours.obs_names, columns=keys)
note = ours.uns.get('cellar_not_measured')
print(json.dumps({
    'var_names': list(ours.var_names),
    'var': {c: [None if pd.isna(v) else str(v) for v in ours.var[c]] for c in ours.var.columns},
    'same_genes': sorted(keys) == sorted(map(str, expected.var_names)),
    'same_cells': list(ours.obs_names) == list(expected.obs_names),
    'x_equal': bool(sorted(keys) == sorted(map(str, expected.var_names)) and np.array_equal(O[list(E.columns)].to_numpy(), E.to_numpy())),
    'dtype': str(ours.X.dtype),
    'not_measured': None if note is None else {k: [str(x) for x in note[k]] for k in note},
}))
`;

interface Compared {
  var_names: string[];
  var: Record<string, (string | null)[]>;
  same_genes: boolean;
  same_cells: boolean;
  x_equal: boolean;
  dtype: string;
  not_measured: { dataset: string[]; var_id: string[] } | null;
}

const g = (k: number, v?: number) => `ENSG${String(k).padStart(11, '0')}${v === undefined ? '' : `.${v}`}`;

let root: string;
let home: string;
let inputs: string;
let service: Service | undefined;
const files = new Map<string, string>();
const { invoke, refused } = contractCaller(() => service!, files);
const h = () => ({ home });
const input = (name: string) => join(inputs, name);

function ok<T = unknown>(r: CellarResult): T {
  expect(r.code, r.stderr).toBe(0);
  return r.json as T;
}

function exported(store: string, name: string, extra: string[] = []): string {
  const out = join(root, `${name}.h5ad`);
  ok(cellar(['query', '--store', store, '--out', out, ...extra, '--json'], h()));
  return out;
}

/** The manifest of a store's latest version and the feature presence table read straight from its Arrow files. */
function presenceOf(storeKey: string): { naming: unknown; pairs: [number, number][] } {
  const list = ok<{ stores: { key: string; uid: string; version: number }[] }>(cellar(['list', '--json'], h()));
  const store = list.stores.find((s) => s.key === storeKey)!;
  // A store lives in stores/<uid stem> (the uid without its 4-character version suffix).
  const dir = join(home, 'stores', store.uid.slice(0, 16));
  const manifest = JSON.parse(readFileSync(join(dir, 'manifests', `v${String(store.version).padStart(6, '0')}.json`), 'utf8'));
  const ms = (manifest as { ms: { RNA: { genes: unknown; presence: { columns: { name: string; pieces: { file: string }[] }[] } } } }).ms.RNA;
  registerArrowCodecs();
  const column = (name: string): number[] => {
    const out: number[] = [];
    const entry = ms.presence.columns.find((c) => c.name === name)!;
    for (const piece of entry.pieces) for (const v of tableFromIPC(readFileSync(join(dir, piece.file))).getChild(name)!) out.push(Number(v));
    return out;
  };
  const d = column('dataset');
  const v = column('var_joinid');
  return { naming: ms.genes, pairs: d.map((x, i) => [x, v[i]!] as [number, number]) };
}

beforeAll(() => {
  root = tempDir('genes');
  home = join(root, 'home');
  inputs = join(root, 'in');
  runPythonJson(MAKE_INPUTS, [inputs]);
  ok(cellar(['import', input('a.h5ad'), input('b.h5ad'), '--collection', 'ab', '--json'], h()));
  ok(cellar(['import', input('a.h5ad'), input('clash.h5ad'), '--collection', 'with-clash', '--json'], h()));
}, 180_000);

afterAll(() => {
  service?.close();
  removeDir(root);
});

describe('the plan', () => {
  it('unversioned matching lists every merge and the genes each dataset lacks; outer join is the default', () => {
    const r = cellar(['concat', '--collection', 'ab', '--store', 'dry', '--match-genes', 'unversioned', '--dry-run'], h());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('  var/genes — 7 genes, outer join (the default): every gene of every dataset; ids matched without their Ensembl version; symbols: var column gene_symbols');
    expect(r.stdout).toContain(
      `  var/var_id — 5 gene ids merged with the same gene under another version, keeping the id first seen: ${g(4, 16)} (b.h5ad) → ${g(4, 17)}, ${g(1, 16)} (b.h5ad) → ${g(1, 17)}, ${g(2, 16)} (b.h5ad) → ${g(2, 17)}, ${g(6, 16)} (b.h5ad) → ${g(6, 17)}, ${g(5, 16)} (b.h5ad) → ${g(5, 17)}`,
    );
    expect(r.stdout).toContain(`  var/genes — 1 gene not measured in a.h5ad: ${g(7, 1)} (recorded in the feature presence table: its cells read "not measured" there, not 0)`);
    expect(r.stdout).toContain(`  var/genes — 1 gene not measured in b.h5ad: ${g(3, 17)} (recorded in the feature presence table: its cells read "not measured" there, not 0)`);
    expect(r.stdout).toContain('  var/gene_symbols — gene symbols taken from "feature_name" in b.h5ad');
    const plan = ok<{ plan: PlanReport }>(cellar(['concat', '--collection', 'ab', '--store', 'dry', '--match-genes', 'unversioned', '--dry-run', '--json'], h())).plan;
    expect(plan.n_vars).toBe(7);
    expect(plan.genes).toEqual({
      match: 'unversioned',
      join: 'outer',
      symbol_column: 'gene_symbols',
      merged: { count: 5, examples: [4, 1, 2, 6, 5].map((k) => ({ id: g(k, 16), kept: g(k, 17), dataset: 'b.h5ad' })) },
      missing: [
        { dataset: 'a.h5ad', count: 1, examples: [g(7, 1)] },
        { dataset: 'b.h5ad', count: 1, examples: [g(3, 17)] },
      ],
    });
  });

  it('exact matching (the default) keeps differently versioned ids apart', () => {
    const plan = ok<{ plan: PlanReport }>(cellar(['concat', '--collection', 'ab', '--store', 'dry', '--dry-run', '--json'], h())).plan;
    expect(plan.n_vars).toBe(12);
    expect(plan.genes!.match).toBe('exact');
    expect(plan.genes!.merged.count).toBe(0);
    expect(plan.genes!.missing.map((m) => [m.dataset, m.count])).toEqual([['a.h5ad', 6], ['b.h5ad', 6]]);
  });

  it('an inner join lists the genes it leaves out', () => {
    const r = cellar(['concat', '--collection', 'ab', '--store', 'dry', '--match-genes', 'unversioned', '--join', 'inner', '--dry-run'], h());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('  var/genes — 5 genes, inner join: only genes every dataset measured');
    expect(r.stdout).toContain(`Dropped:\n  var/genes — 1 gene of a.h5ad not measured in every dataset (inner join): ${g(3, 17)}\n  var/genes — 1 gene of b.h5ad not measured in every dataset (inner join): ${g(7, 1)}`);
  });
});

describe('a store made with unversioned matching (outer join)', () => {
  beforeAll(() => {
    ok(cellar(['concat', '--collection', 'ab', '--store', 'uv', '--match-genes', 'unversioned', '--json'], h()));
  });

  it('keeps the first dataset\'s ids, one symbol column, and records which dataset measured which gene', () => {
    const { naming, pairs } = presenceOf('uv');
    expect(naming).toEqual({ symbolColumn: 'gene_symbols', match: 'unversioned', join: 'outer' });
    // var joinids: a's six genes (0..5), then gene 7 (6). a lacks 6, b lacks 2 (gene 3).
    expect(pairs).toEqual([...[0, 1, 2, 3, 4, 5].map((v) => [0, v]), ...[0, 1, 3, 4, 5, 6].map((v) => [1, v])]);
    const c = runPythonJson<Compared>(COMPARE, [exported('uv', 'uv-all'), 'outer', input('a.h5ad'), input('b.h5ad')]);
    expect(c.var_names).toEqual([g(1, 17), g(2, 17), g(3, 17), g(4, 17), g(5, 17), g(6, 17), g(7, 1)]);
    expect(c.var.gene_symbols).toEqual(['TP53', 'CD3E', 'MS4A1', 'GAPDH', 'DUP', 'DUP', 'NEWG']);
    expect(c).toMatchObject({ same_genes: true, same_cells: true, x_equal: true, dtype: 'float32' });
    // Where X reads 0 only because the gene was never measured, the export says so beside it.
    expect(c.not_measured).toEqual({ dataset: ['a.h5ad', 'b.h5ad'], var_id: [g(7, 1), g(3, 17)] });
  });

  it('var filters name genes by id or symbol (gene == …), and cellar genes finds them by prefix', () => {
    const c = runPythonJson<Compared>(COMPARE, [exported('uv', 'uv-some', ['--var', `gene in ["CD3E", "${g(7, 1)}"] or gene == "TP53"`]), 'outer', input('a.h5ad'), input('b.h5ad')]);
    expect(c.var_names).toEqual([g(1, 17), g(2, 17), g(7, 1)]);
    // A matching id with another version suffix also finds the gene.
    const other = runPythonJson<Compared>(COMPARE, [exported('uv', 'uv-version', ['--var', `gene == "${g(3, 4)}"`]), 'outer', input('a.h5ad'), input('b.h5ad')]);
    expect(other.var_names).toEqual([g(3, 17)]);
    expect(other.not_measured).toEqual({ dataset: ['b.h5ad'], var_id: [g(3, 17)] });
    const found = ok<{ hits: GeneHit[] }>(cellar(['genes', '--store', 'uv', '--search', 'tp', '--json'], h()));
    expect(found.hits).toEqual([{ joinid: 0, id: g(1, 17), symbol: 'TP53' }]);
    const byId = ok<{ hits: GeneHit[] }>(cellar(['genes', '--store', 'uv', '--search', 'ensg0000000000', '--limit', '3', '--json'], h()));
    expect(byId.hits.map((x) => x.id)).toEqual([g(1, 17), g(2, 17), g(3, 17)]);
    const text = cellar(['genes', '--store', 'uv', '--search', 'DU'], h());
    expect(text.stdout.trim()).toBe(`${g(5, 17)}\tDUP\n${g(6, 17)}\tDUP`);
  });

  it('cellar de reports each gene\'s symbol from the store\'s symbol column', () => {
    const r = ok<{ results: { gene: string; symbol: string }[] }>(cellar(['de', '--store', 'uv', '--groupby', 'cell_type', '--group', 'T', '--json'], h()));
    const symbols = Object.fromEntries(r.results.map((x) => [x.gene, x.symbol]));
    expect(symbols).toEqual({ [g(1, 17)]: 'TP53', [g(2, 17)]: 'CD3E', [g(3, 17)]: 'MS4A1', [g(4, 17)]: 'GAPDH', [g(5, 17)]: 'DUP', [g(6, 17)]: 'DUP', [g(7, 1)]: 'NEWG' });
  });

  it('the explorer colours by a gene named by symbol, with cells of a dataset that never measured it as NaN ("not measured"); stored values as anndata reads them', async () => {
    service = createService({ home, mode: 'browser', version: '0.1.0', files, offerDownload: () => '/api/download/none' });
    const colors = await invoke('embedding:colors', { storeKey: 'uv', gene: 'MS4A1', normalize: false });
    if (colors.kind !== 'numeric') throw new Error('expected numeric colours');
    const values = new Float32Array(colors.values.buffer, colors.values.byteOffset, colors.values.byteLength / 4);
    const reference = runPythonJson<number[]>(String.raw`
import sys, json, anndata as ad
a = ad.read_h5ad(sys.argv[1])
print(json.dumps(a[:, a.var_names == sys.argv[2]].X.toarray().ravel().tolist()))
`, [input('a.h5ad'), g(3, 17)]);
    expect(Array.from(values.subarray(0, 5))).toEqual(reference);
    expect(Array.from(values.subarray(5)).every(Number.isNaN)).toBe(true);
    expect(colors.gene).toEqual({ joinid: 2, id: g(3, 17), symbol: 'MS4A1' });
    expect(colors.notMeasured).toEqual({ nCells: 4, datasets: ['b.h5ad'], note: `b.h5ad did not measure MS4A1 (${g(3, 17)}): 4 cells are "not measured" (NaN), not 0.` });
    expect(colors.byDataset!.map((d) => [d.key, d.nCells, d.measured])).toEqual([['a.h5ad', 5, true], ['b.h5ad', 4, false]]);
    // A gene every dataset measured has no note.
    const measured = await invoke('embedding:colors', { storeKey: 'uv', gene: g(1, 16) });
    expect(measured.kind === 'numeric' && measured.notMeasured).toBeUndefined();
    expect((await refused('embedding:colors', { storeKey: 'uv', gene: 'DUP' })).message).toBe(`The gene symbol DUP is ambiguous in store uv: it names 2 genes (${g(5, 17)}, ${g(6, 17)}); ask for one by its id.`);
    expect(await invoke('genes:search', { storeKey: 'uv', prefix: 'cd', limit: 5 })).toEqual([{ joinid: 1, id: g(2, 17), symbol: 'CD3E' }]);
    expect((await refused('genes:search', { storeKey: 'uv', prefix: 'cd', limit: 0 })).code).toBe('usage');
    // The app's concatenation plan takes the same choices, checked by the channel's schema.
    const plan = await invoke('concat:plan', { collectionKey: 'ab', matchGenes: 'unversioned', join: 'inner' });
    expect([plan.n_vars, plan.genes!.join, plan.genes!.match, plan.genes!.merged.count]).toEqual([5, 'inner', 'unversioned', 5]);
    const bad = await refused('concat:plan', { collectionKey: 'ab', join: 'left' as 'inner' });
    expect(bad.code).toBe('usage');
    expect(bad.message).toContain('outer or inner');
  });
});

describe('an inner join', () => {
  it('keeps only the genes every dataset measured, with the values anndata.concat(join="inner") gives', () => {
    ok(cellar(['concat', '--collection', 'ab', '--store', 'inner', '--match-genes', 'unversioned', '--join', 'inner', '--json'], h()));
    const c = runPythonJson<Compared>(COMPARE, [exported('inner', 'inner-all'), 'inner', input('a.h5ad'), input('b.h5ad')]);
    expect(c.var_names).toEqual([g(1, 17), g(2, 17), g(4, 17), g(5, 17), g(6, 17)]);
    expect(c.var.gene_symbols).toEqual(['TP53', 'CD3E', 'GAPDH', 'DUP', 'DUP']);
    expect(c).toMatchObject({ same_genes: true, same_cells: true, x_equal: true, not_measured: null });
    const { naming, pairs } = presenceOf('inner');
    expect(naming).toEqual({ symbolColumn: 'gene_symbols', match: 'unversioned', join: 'inner' });
    expect(pairs).toEqual([0, 1].flatMap((d) => [0, 1, 2, 3, 4].map((v) => [d, v])));
  });
});

describe('append with unversioned matching', () => {
  it('matches unversioned ids to the store\'s, fills the store\'s symbol column from the file\'s own, and records presence', () => {
    ok(cellar(['concat', '--collection', 'ab', '--store', 'grow', '--match-genes', 'unversioned', '--json'], h()));
    const dry = ok<{ plan: PlanReport }>(cellar(['append', '--store', 'grow', input('c.h5ad'), '--dry-run', '--json'], h()));
    expect(dry.plan.genes!.match).toBe('unversioned');
    expect(dry.plan.genes!.merged).toEqual({ count: 2, examples: [{ id: g(3), kept: g(3, 17), dataset: 'c.h5ad' }, { id: g(1), kept: g(1, 17), dataset: 'c.h5ad' }] });
    expect(dry.plan.n_new_vars).toBe(1);
    ok(cellar(['append', '--store', 'grow', input('c.h5ad'), '--json'], h()));
    const c = runPythonJson<Compared>(COMPARE, [exported('grow', 'grow-all'), 'outer', input('a.h5ad'), input('b.h5ad'), input('c.h5ad')]);
    expect(c.var_names).toEqual([g(1, 17), g(2, 17), g(3, 17), g(4, 17), g(5, 17), g(6, 17), g(7, 1), g(8)]);
    expect(c.var.gene_symbols).toEqual(['TP53', 'CD3E', 'MS4A1', 'GAPDH', 'DUP', 'DUP', 'NEWG', 'EIGHT']);
    expect(c).toMatchObject({ same_genes: true, same_cells: true, x_equal: true });
    expect(presenceOf('grow').pairs.filter(([d]) => d === 2)).toEqual([[2, 0], [2, 2], [2, 7]]);
  });
});

describe('changing the symbol column later', () => {
  it('makes a new version; names then resolve through the new column, and an unknown column is refused', () => {
    ok(cellar(['concat', '--collection', 'ab', '--store', 'named', '--match-genes', 'unversioned', '--json'], h()));
    const none = ok(cellar(['genes', '--store', 'named', '--symbol-column', 'none', '--json'], h()));
    expect(none).toMatchObject({ store: { key: 'named', version: 2 }, symbol_column: null });
    const r = cellar(['query', '--store', 'named', '--var', 'gene == "TP53"', '--format', 'json'], h());
    expect(r.code).toBe(1);
    expect(firstLine(r.stderr)).toBe('There is no gene TP53 in store named as a var id (the store has no gene symbol column).');
    const before = snapshotTree(join(home, 'stores'));
    const bad = cellar(['genes', '--store', 'named', '--symbol-column', 'nope'], h());
    expect(bad.code).toBe(1);
    expect(firstLine(bad.stderr)).toBe('The var column nope of named does not exist; columns that can hold symbols: gene_symbols.');
    expect(snapshotTree(join(home, 'stores'))).toEqual(before);
    ok(cellar(['genes', '--store', 'named', '--symbol-column', 'gene_symbols', '--json'], h()));
    const info = ok(cellar(['genes', '--store', 'named', '--json'], h()));
    expect(info).toMatchObject({ store: { version: 3 }, symbol_column: 'gene_symbols', match: 'unversioned', join: 'outer', presence: true, n_vars: 7 });
    // compact rewrites every file: the naming and the presence table come through unchanged.
    const before3 = presenceOf('named');
    ok(cellar(['compact', '--store', 'named', '--yes', '--json'], h()));
    expect(presenceOf('named')).toEqual(before3);
    expect(ok(cellar(['genes', '--store', 'named', '--json'], h()))).toMatchObject({ store: { version: 4 }, symbol_column: 'gene_symbols', presence: true });
  });
});

describe('bad input: a clear message and nothing written', () => {
  const unchanged = (run: () => CellarResult): CellarResult => {
    const before = snapshotTree(join(home, 'stores'));
    const r = run();
    expect(snapshotTree(join(home, 'stores'))).toEqual(before);
    return r;
  };

  it('an ambiguous symbol lists the ids it names', () => {
    ok(cellar(['concat', '--collection', 'ab', '--store', 'q', '--match-genes', 'unversioned', '--json'], h()));
    const r = unchanged(() => cellar(['query', '--store', 'q', '--var', 'gene == "DUP"', '--out', join(root, 'never.h5ad')], h()));
    expect(r.code).toBe(1);
    expect(firstLine(r.stderr)).toBe(`The gene symbol DUP is ambiguous in store q: it names 2 genes (${g(5, 17)}, ${g(6, 17)}); ask for one by its id.`);
    expect(existsSync(join(root, 'never.h5ad'))).toBe(false);
  });

  it('an unknown gene', () => {
    const r = unchanged(() => cellar(['query', '--store', 'q', '--var', 'gene in ["TP53", "NOPE"]', '--format', 'csv'], h()));
    expect(r.code).toBe(1);
    expect(firstLine(r.stderr)).toBe('There is no gene NOPE in store q as a var id or a gene symbol (var column gene_symbols).');
  });

  it('stripping versions would merge two genes of one file', () => {
    for (const dryRun of [[], ['--dry-run']]) {
      const r = unchanged(() => cellar(['concat', '--collection', 'with-clash', '--store', 'clash', '--match-genes', 'unversioned', ...dryRun], h()));
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain(`--match-genes unversioned would merge 1 pair of genes within clash.h5ad: ${g(1, 1)} and ${g(1, 2)}. Those are different genes there; use --match-genes exact.`);
    }
    expect(firstLine(cellar(['concat', '--collection', 'with-clash', '--store', 'clash', '--match-genes', 'unversioned'], h()).stderr)).toBe('The collection with-clash cannot be concatenated as it is (1 problem).');
    expect(cellar(['list', '--json'], h()).stdout).not.toContain('"clash"');
  });

  it('bad --join and --match-genes values are usage errors', () => {
    const cases: [string[], string][] = [
      [['concat', '--collection', 'ab', '--store', 'x', '--join', 'left'], 'Unknown --join left; use outer or inner.'],
      [['concat', '--collection', 'ab', '--store', 'x', '--match-genes', 'fuzzy'], 'Unknown --match-genes fuzzy; use exact or unversioned.'],
      [['append', '--store', 'q', input('c.h5ad'), '--match-genes', 'fuzzy'], 'Unknown --match-genes fuzzy; use exact or unversioned.'],
    ];
    for (const [args, message] of cases) {
      const r = unchanged(() => cellar(args, h()));
      expect(r.code, args.join(' ')).toBe(2);
      expect(firstLine(r.stderr)).toBe(message);
    }
  });

  it('a --symbol-column no dataset has', () => {
    const r = unchanged(() => cellar(['concat', '--collection', 'ab', '--store', 'x', '--symbol-column', 'hgnc'], h()));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--symbol-column hgnc: no dataset has a var column of that name (var columns: gene_symbols, feature_name).');
  });
});
