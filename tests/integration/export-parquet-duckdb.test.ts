// `cellar export --format parquet`, read back by DuckDB (and Polars for the categorical types):
// a SQL join of obs with X, filtered on obs columns, returns the same cells and values as
// `cellar query` (obs rows from --format json, X / layers / raw from its .h5ad, read by
// Debian's anndata), on the full export and on an export of the same query; categoricals,
// NA, the join ids and the row-range partitioning survive; any version exports; and every
// refusal leaves nothing behind.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import pl from 'nodejs-polars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellar, firstLine, removeDir, snapshotTree, tempDir } from './helpers/cellar';
import { makeParquetInputs, PARQUET_INPUT_CELLS } from './helpers/parquet-inputs';
import { runPythonJson } from './helpers/python';

const OBS_FILTER = 'cell_type in ["B", "NK"] and n_genes > 8';
const OBS_SQL = "o.cell_type IN ('B', 'NK') AND o.n_genes > 8";
const GENES = ['g0', 'g3', 'g4', 'g7', 'g12', 'g20', 'g29'];
const VAR_FILTER = `var_id in ${JSON.stringify(GENES)}`;
const VAR_SQL = `v.var_id IN (${GENES.map((g) => `'${g}'`).join(', ')})`;
const MAX_NNZ = 300;

/** Every stored entry of X, each layer and raw.X of an h5ad, as [obs name, var name, value]. */
const READ_H5AD = String.raw`
import sys, json
import numpy as np, scipy.sparse as sp, anndata as ad
a = ad.read_h5ad(sys.argv[1])
def triples(m, obs, var):
    m = sp.coo_matrix(m)
    return [[obs[i], var[j], float(v)] for i, j, v in zip(m.row, m.col, m.data)]
obs, var = list(a.obs_names), list(a.var_names)
print(json.dumps({
    'obs': obs, 'var': var,
    'X': triples(a.X, obs, var),
    'counts': triples(a.layers['counts'], obs, var),
    'raw': triples(a.raw.X, obs, list(a.raw.var_names)),
    'pca': {n: [float(x) for x in row] for n, row in zip(obs, np.asarray(a.obsm['pca']))},
}))
`;

interface H5adSlice {
  obs: string[];
  var: string[];
  X: Triple[];
  counts: Triple[];
  raw: Triple[];
  pca: Record<string, number[]>;
}
type Triple = [string, string, number];

const byCell = (a: Triple, b: Triple) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

let work: string;
let home: string;
let full: string;
let filtered: string;
let db: DuckDBInstance;
let sql: DuckDBConnection;
let slice: H5adSlice;
let queryRows: Record<string, unknown>[];
let allRows: Record<string, unknown>[];
let exportJson: { n_obs: number; n_vars: number; matrices: { measurement: string; layer: string; nnz: number; parts: { path: string; obsJoinids: [number, number] | null; nnz: number }[] }[] };

async function rows(text: string): Promise<Record<string, unknown>[]> {
  return (await sql.runAndReadAll(text)).getRowObjectsJS() as Record<string, unknown>[];
}

function run(args: string[]) {
  const result = cellar(args, { home });
  if (result.code !== 0) throw new Error(`cellar ${args.join(' ')} failed:\n${result.stderr}`);
  return result;
}

/** The partial siblings an export may leave next to its target (there must never be any). */
function partials(target: string): string[] {
  return existsSync(dirname(target)) ? readdirSync(dirname(target)).filter((n) => n.startsWith(`.${basename(target)}.partial-`)) : [];
}

beforeAll(async () => {
  work = tempDir('parquet');
  home = join(work, 'home');
  const inputs = makeParquetInputs(join(work, 'in'));
  run(['import', inputs.p1, inputs.p2, '--collection', 'c']);
  run(['concat', '--collection', 'c', '--store', 's']);
  run(['append', '--store', 's', inputs.p3]);
  run(['embed', '--store', 's', '--pca', '3', '--seed', '1']);
  full = join(work, 'full');
  filtered = join(work, 'filtered');
  run(['export', '--store', 's', '--format', 'parquet', '--part-nnz', String(MAX_NNZ), full]);
  exportJson = JSON.parse(run(['export', '--store', 's', '--format', 'parquet', '--obs', OBS_FILTER, '--var', VAR_FILTER, '--part-nnz', String(MAX_NNZ), filtered, '--json']).stdout);
  queryRows = JSON.parse(run(['query', '--store', 's', '--obs', OBS_FILTER, '--var', VAR_FILTER, '--format', 'json']).stdout);
  allRows = JSON.parse(run(['query', '--store', 's', '--format', 'json']).stdout);
  run(['query', '--store', 's', '--obs', OBS_FILTER, '--var', VAR_FILTER, '--out', join(work, 'q.h5ad')]);
  slice = runPythonJson<H5adSlice>(READ_H5AD, [join(work, 'q.h5ad')]);
  db = await DuckDBInstance.create(':memory:');
  sql = await db.connect();
}, 240_000);

afterAll(() => {
  sql?.closeSync();
  db?.closeSync();
  removeDir(work);
});

/** X of one measurement and layer, joined with obs and var by their ids, filtered in SQL. */
async function joinedTriples(dir: string, measurement: string, layer: string, where: string): Promise<Triple[]> {
  const out = await rows(`
    SELECT o.obs_id, v.var_id, x.soma_data
    FROM read_parquet('${dir}/ms/${measurement}/X/${layer}/*.parquet') AS x
    JOIN '${dir}/obs.parquet' AS o ON o.soma_joinid = x.soma_dim_0
    JOIN '${dir}/ms/${measurement}/var.parquet' AS v ON v.soma_joinid = x.soma_dim_1
    WHERE ${where}`);
  return out.map((r) => [r.obs_id as string, r.var_id as string, r.soma_data as number] as Triple).sort(byCell);
}

describe('cellar export --format parquet, read by DuckDB', () => {
  it('a SQL join filtered on obs columns returns the cells and values cellar query returns', async () => {
    expect(slice.obs.length).toBeGreaterThan(10);
    expect(slice.obs).toEqual(queryRows.map((r) => r.obs_id));
    // The full export, filtered in SQL, and the export of the same query, unfiltered.
    const cells = await rows(`SELECT obs_id FROM '${full}/obs.parquet' AS o WHERE ${OBS_SQL} ORDER BY soma_joinid`);
    expect(cells.map((r) => r.obs_id)).toEqual(slice.obs);
    expect((await rows(`SELECT obs_id FROM '${filtered}/obs.parquet' ORDER BY soma_joinid`)).map((r) => r.obs_id)).toEqual(slice.obs);
    expect((await rows(`SELECT var_id FROM '${filtered}/ms/RNA/var.parquet' ORDER BY soma_joinid`)).map((r) => r.var_id)).toEqual(slice.var);

    const expectX = [...slice.X].sort(byCell);
    expect(expectX.length).toBeGreaterThan(20);
    expect(await joinedTriples(full, 'RNA', 'data', `${OBS_SQL} AND ${VAR_SQL}`)).toEqual(expectX);
    expect(await joinedTriples(filtered, 'RNA', 'data', 'true')).toEqual(expectX);
    expect(await joinedTriples(filtered, 'RNA', 'counts', 'true')).toEqual([...slice.counts].sort(byCell));
    // raw keeps its own genes, all of them, for the selected cells.
    expect(await joinedTriples(full, 'raw', 'data', OBS_SQL)).toEqual([...slice.raw].sort(byCell));
    expect(await joinedTriples(filtered, 'raw', 'data', 'true')).toEqual([...slice.raw].sort(byCell));
    expect(exportJson.n_obs).toBe(slice.obs.length);
    expect(exportJson.n_vars).toBe(GENES.length);
  });

  it('keeps every obs value, NA (float NaN included) as null', async () => {
    const got = await rows(`SELECT * FROM '${filtered}/obs.parquet' ORDER BY soma_joinid`);
    const normal = (v: unknown) => (typeof v === 'bigint' ? Number(v) : v);
    const columns = ['obs_id', 'cell_type', 'stage', 'donor', 'n_genes', 'score', 'is_doublet', 'batch', 'qc_pass', 'dataset'];
    expect(got.map((r) => columns.map((c) => normal(r[c])))).toEqual(queryRows.map((r) => columns.map((c) => r[c])));

    // NA counts over the whole store, against cellar query's nulls.
    const nulls = (await rows(`SELECT count(*) FILTER (cell_type IS NULL) AS cell_type, count(*) FILTER (batch IS NULL) AS batch,
      count(*) FILTER (qc_pass IS NULL) AS qc_pass, count(*) FILTER (isnan(score)) AS score_nan, count(*) FILTER (score IS NULL) AS score_null
      FROM '${full}/obs.parquet'`))[0]!;
    const count = (f: (r: Record<string, unknown>) => boolean) => allRows.filter(f).length;
    expect(Number(nulls.cell_type)).toBe(count((r) => r.cell_type === null));
    expect(Number(nulls.batch)).toBe(count((r) => r.batch === null));
    expect(Number(nulls.qc_pass)).toBe(count((r) => r.qc_pass === null));
    expect(Number(nulls.score_null)).toBe(count((r) => r.score === null));
    expect(Number(nulls.cell_type) * Number(nulls.batch) * Number(nulls.qc_pass) * Number(nulls.score_null)).toBeGreaterThan(0);
    expect(Number(nulls.score_nan)).toBe(0);
    // So SQL filters on a float column agree with cellar query's (NA fails every comparison).
    const kept = await rows(`SELECT count(*) AS n FROM '${full}/obs.parquet' WHERE score <> 0.5`);
    expect(Number(kept[0]!.n)).toBe(count((r) => r.score !== null));
  });

  it('writes the store types: dictionary columns with their category lists, nullable integers and int64 ids', async () => {
    const types = Object.fromEntries((await rows(`DESCRIBE SELECT * FROM '${full}/obs.parquet'`)).map((r) => [r.column_name, r.column_type]));
    expect(types).toMatchObject({ soma_joinid: 'BIGINT', cell_type: 'VARCHAR', n_genes: 'BIGINT', score: 'DOUBLE', is_doublet: 'BOOLEAN', batch: 'INTEGER', qc_pass: 'BOOLEAN' });
    const xTypes = (await rows(`DESCRIBE SELECT * FROM read_parquet('${full}/ms/RNA/X/data/*.parquet')`)).map((r) => [r.column_name, r.column_type]);
    expect(xTypes).toEqual([['soma_dim_0', 'BIGINT'], ['soma_dim_1', 'BIGINT'], ['soma_data', 'FLOAT']]);
    // Dictionary pages in the file, and the Arrow schema that restores categoricals.
    const encodings = await rows(`SELECT path_in_schema, encodings, compression FROM parquet_metadata('${full}/obs.parquet') WHERE path_in_schema = 'cell_type'`);
    expect(encodings[0]!.encodings).toContain('RLE_DICTIONARY');
    expect(encodings[0]!.compression).toBe('ZSTD');
    const kv = await rows(`SELECT decode(key) AS key, CASE WHEN decode(key) LIKE 'cellar.%' THEN decode(value) END AS value FROM parquet_kv_metadata('${full}/obs.parquet')`);
    expect(kv.map((r) => r.key)).toEqual(expect.arrayContaining(['ARROW:schema', 'cellar.store', 'cellar.store_version', 'cellar.categories']));
    // The full category lists and the ordered flag, which a Parquet dictionary cannot hold.
    const categories = JSON.parse(kv.find((r) => r.key === 'cellar.categories')!.value as string);
    expect(categories).toMatchObject({ cell_type: { categories: ['B', 'T', 'NK'], ordered: false }, stage: { categories: ['early', 'mid', 'late'], ordered: true } });

    // An independent Arrow reader (Polars) turns them back into categoricals with the same values.
    const df = pl.readParquet(join(full, 'obs.parquet'));
    expect(String(df.getColumn('cell_type').dtype)).toBe('DataType(Categorical)');
    expect(String(df.getColumn('stage').dtype)).toBe('DataType(Categorical)');
    expect(String(df.getColumn('donor').dtype)).toBe('DataType(String)');
    expect(df.getColumn('cell_type').toArray()).toEqual(allRows.map((r) => r.cell_type));
    expect(df.getColumn('batch').toArray()).toEqual(allRows.map((r) => r.batch));
  });

  it('keeps the store join ids: filters never renumber cells or genes', async () => {
    const mismatched = await rows(`
      SELECT count(*) AS n FROM '${filtered}/obs.parquet' AS f JOIN '${full}/obs.parquet' AS a USING (obs_id) WHERE f.soma_joinid <> a.soma_joinid`);
    expect(Number(mismatched[0]!.n)).toBe(0);
    const genes = await rows(`SELECT f.soma_joinid AS f, a.soma_joinid AS a FROM '${filtered}/ms/RNA/var.parquet' AS f JOIN '${full}/ms/RNA/var.parquet' AS a USING (var_id)`);
    expect(genes.length).toBe(GENES.length);
    for (const g of genes) expect(g.f).toBe(g.a);
    // The full export's obs ids are 0..n-1 in store order; every X coordinate points at a row.
    const ids = (await rows(`SELECT min(soma_joinid) AS lo, max(soma_joinid) AS hi, count(DISTINCT soma_joinid) AS n FROM '${full}/obs.parquet'`))[0]!;
    const nCells = PARQUET_INPUT_CELLS.p1 + PARQUET_INPUT_CELLS.p2 + PARQUET_INPUT_CELLS.p3;
    expect([ids.lo, ids.hi, ids.n]).toEqual([0n, BigInt(nCells - 1), BigInt(nCells)]);
    const orphans = await rows(`
      SELECT count(*) AS n FROM read_parquet('${filtered}/ms/RNA/X/data/*.parquet') AS x
      WHERE x.soma_dim_0 NOT IN (SELECT soma_joinid FROM '${filtered}/obs.parquet')
         OR x.soma_dim_1 NOT IN (SELECT soma_joinid FROM '${filtered}/ms/RNA/var.parquet')`);
    expect(Number(orphans[0]!.n)).toBe(0);
    // obsm: one row per cell, the same components as the .h5ad.
    const pca = await rows(`SELECT o.obs_id, p.pca_1, p.pca_2, p.pca_3 FROM '${filtered}/ms/RNA/obsm/pca.parquet' AS p JOIN '${filtered}/obs.parquet' AS o USING (soma_joinid)`);
    expect(pca.length).toBe(slice.obs.length);
    for (const r of pca) expect([r.pca_1, r.pca_2, r.pca_3]).toEqual(slice.pca[r.obs_id as string]);
  });

  it('splits X into files by row ranges of at most --part-nnz entries', async () => {
    const parts = await rows(`
      SELECT filename, count(*) AS nnz, min(soma_dim_0) AS lo, max(soma_dim_0) AS hi
      FROM read_parquet('${full}/ms/RNA/X/data/*.parquet', filename = true) GROUP BY filename ORDER BY filename`);
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.map((p) => basename(p.filename as string))).toEqual(parts.map((_, i) => `part-${String(i).padStart(5, '0')}.parquet`));
    for (let i = 0; i < parts.length; i++) {
      expect(Number(parts[i]!.nnz)).toBeLessThanOrEqual(MAX_NNZ);
      if (i > 0) expect(parts[i]!.lo as bigint).toBeGreaterThan(parts[i - 1]!.hi as bigint);
    }
    const total = await rows(`SELECT count(*) AS n FROM read_parquet('${full}/ms/RNA/X/data/*.parquet')`);
    const data = exportJson.matrices.find((m) => m.measurement === 'RNA' && m.layer === 'data')!;
    expect(data.nnz).toBe(slice.X.length);
    expect(data.parts.reduce((n, p) => n + p.nnz, 0)).toBe(data.nnz);
    expect(Number(total[0]!.n)).toBeGreaterThan(data.nnz);
    expect(exportJson.matrices.map((m) => `${m.measurement}/${m.layer}`).sort()).toEqual(['RNA/counts', 'RNA/data', 'raw/data']);
    const readme = readFileSync(join(full, 'README.md'), 'utf8');
    expect(readme).toContain('`soma_dim_0` is the cell\'s obs `soma_joinid`');
    expect(readme).toContain('| `ms/RNA/X/data/part-*.parquet` | float32 |');
  });

  it('exports any version, and an empty selection as readable empty tables', async () => {
    const v1 = join(work, 'v1');
    const result = JSON.parse(run(['export', '--store', 's', '--version', '1', '--format', 'parquet', v1, '--json']).stdout);
    expect(result.store.version).toBe(1);
    const n = await rows(`SELECT count(*) AS n, max(soma_joinid) AS hi FROM '${v1}/obs.parquet'`);
    expect(n[0]).toEqual({ n: BigInt(PARQUET_INPUT_CELLS.p1 + PARQUET_INPUT_CELLS.p2), hi: BigInt(PARQUET_INPUT_CELLS.p1 + PARQUET_INPUT_CELLS.p2 - 1) });
    expect(existsSync(join(v1, 'ms/RNA/obsm'))).toBe(false);

    const none = join(work, 'none');
    run(['export', '--store', 's', '--format', 'parquet', '--obs', 'n_genes > 100000', none]);
    expect(Number((await rows(`SELECT count(*) AS n FROM '${none}/obs.parquet'`))[0]!.n)).toBe(0);
    expect(Number((await rows(`SELECT count(*) AS n FROM read_parquet('${none}/ms/RNA/X/data/*.parquet')`))[0]!.n)).toBe(0);
  });

  it('fills a folder the user made empty for it', () => {
    const target = join(work, 'made-empty');
    mkdirSync(target);
    run(['export', '--store', 's', '--format', 'parquet', '--obs', OBS_FILTER, target]);
    expect(readdirSync(target).sort()).toEqual(['README.md', 'ms', 'obs.parquet']);
    expect(partials(target)).toEqual([]);
  });
});

describe('cellar export refuses bad requests and writes nothing', () => {
  const refusals: { name: string; args: (target: string) => string[]; prepare?: (target: string) => void; code: number; message: RegExp }[] = [
    { name: 'a folder that is not empty', prepare: (t) => { mkdirSync(t); writeFileSync(join(t, 'keep.txt'), 'mine'); }, args: (t) => [t], code: 1, message: /^The folder .*not empty; choose a new or empty folder/ },
    { name: 'a file in the way', prepare: (t) => writeFileSync(t, 'mine'), args: (t) => [t], code: 1, message: /exists and is not a folder/ },
    { name: 'a parent folder that does not exist', args: (t) => [join(t, 'deeper')], code: 1, message: /^The folder .* does not exist; create it first/ },
    { name: 'an unknown store', args: (t) => ['--store', 'nope', t], code: 1, message: /^There is no store called nope/ },
    { name: 'an unknown version', args: (t) => ['--version', '9', t], code: 1, message: /has no version "9"/ },
    { name: 'a filter with a syntax error', args: (t) => ['--obs', 'cell_type == ', t], code: 1, message: /^Filter syntax error at position 14/ },
    { name: 'a filter on an unknown column', args: (t) => ['--obs', 'colour == "red"', t], code: 1, message: /colour/ },
    { name: 'another format', args: (t) => ['--format', 'csv', t], code: 2, message: /^Unknown --format csv; cellar export writes parquet/ },
    { name: 'no folder', args: () => [], code: 2, message: /^Missing argument for "cellar export"/ },
    { name: 'no format', args: (t) => ['--store', 's', t], code: 2, message: /^cellar export needs --format parquet/ },
    { name: 'a zero file size', args: (t) => ['--part-nnz', '0', t], code: 2, message: /--part-nnz must be at least 1/ },
  ];

  for (const [i, refusal] of refusals.entries()) {
    it(`refuses ${refusal.name}`, () => {
      // Each case in a folder of its own, so a snapshot of it shows anything written there.
      const parent = join(work, `refusal-${i}`);
      mkdirSync(parent);
      const target = join(parent, 'out');
      refusal.prepare?.(target);
      const before = snapshotTree(parent);
      const stores = snapshotTree(join(home, 'stores'));
      const args = refusal.args(target);
      const base = args.includes('--store') ? [] : ['--store', 's'];
      const withFormat = args.includes('--format') || refusal.name === 'no format' ? [] : ['--format', 'parquet'];
      const result = cellar(['export', ...base, ...withFormat, ...args], { home });
      expect(result.code).toBe(refusal.code);
      expect(firstLine(result.stderr)).toMatch(refusal.message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(snapshotTree(parent)).toEqual(before);
      expect(snapshotTree(join(home, 'stores'))).toEqual(stores);
    });
  }

  it('says why in the JSON error document', () => {
    const target = join(work, 'refused-json');
    mkdirSync(target);
    writeFileSync(join(target, 'x'), '');
    const result = cellar(['export', '--store', 's', '--format', 'parquet', target, '--json'], { home });
    expect(result.code).toBe(1);
    expect(result.json).toEqual({ error: expect.objectContaining({ code: 'already_exists' }) });
  });
});
