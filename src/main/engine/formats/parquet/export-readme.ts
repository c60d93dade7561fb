// The README.md written into a Parquet export: what each table holds, how the ids join, and a
// query to start from, so the folder explains itself to whoever receives it.
import type { ParquetExportResult } from './export-layout';

export interface ReadmeContext {
  mainMeasurement: string;
  /** Cells and genes of the whole store version, to say how much the filters kept. */
  storeObs: number;
  storeVars: number;
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export function exportReadme(result: ParquetExportResult, ctx: ReadmeContext): string {
  const m = ctx.mainMeasurement;
  const tableRows = result.tables.map((t) => `| \`${t.path}\` | ${t.rows} | ${describeTable(t.name, m)} |`);
  const matrixRows = result.matrices.map((x) => {
    const ranges = x.parts.map((p) => (p.obsJoinids ? `${p.obsJoinids[0]}–${p.obsJoinids[1]}` : 'empty')).join(', ');
    return `| \`${x.path}/part-*.parquet\` | ${x.dtype} | ${x.parts.length} | ${x.nnz} | ${ranges} |`;
  });
  const filter = (f: string | null) => (f ? `\`${f}\`` : 'none');
  const hasRaw = result.matrices.some((x) => x.measurement === 'raw' && m !== 'raw');
  return [
    `# Store ${result.store.key}, version ${result.store.version}, as Parquet`,
    '',
    `Written by \`cellar export --format parquet\` from store version uid \`${result.store.uid}\` (run \`${result.run.uid}\`).`,
    `obs filter: ${filter(result.filters.obs)}; var filter: ${filter(result.filters.var)}.`,
    `${result.n_obs} of ${ctx.storeObs} cells and ${result.n_vars} of ${ctx.storeVars} genes of measurement ${m}.`,
    '',
    '## Tables',
    '',
    '| file | rows | what it holds |',
    '|---|---|---|',
    ...tableRows,
    '',
    'X and each layer are sparse matrices in coordinate form, one row per stored entry',
    '(entries that are absent are zero), split into files by ranges of cells:',
    '',
    '| folder | soma_data type | files | entries | obs soma_joinid range of each file |',
    '|---|---|---|---|---|',
    ...matrixRows,
    '',
    '## How the ids join',
    '',
    '- `soma_joinid` (int64) is the store\'s own id of a cell (in obs) or of a gene (in a',
    '  measurement\'s var). Filters do not renumber it: a cell keeps its id in every export',
    '  of this store.',
    '- In every X table, `soma_dim_0` is the cell\'s obs `soma_joinid` and `soma_dim_1` the',
    '  gene\'s `soma_joinid` in the var table of the same measurement (`ms/<measurement>/`).',
    ...(hasRaw ? ['- `ms/raw` has its own genes and ids: join raw X with `ms/raw/var.parquet`, never with', `  \`ms/${m}/var.parquet\`. Its rows are the same cells (\`soma_dim_0\` is the obs id).`] : []),
    '- `obs_id` and `var_id` hold the cell and gene names of the original files.',
    '',
    '## Types',
    '',
    '- Categorical columns are dictionary-encoded (pyarrow: `dictionary`; Polars and pandas:',
    '  categorical; DuckDB and Spark: strings). The dictionary holds the categories in use, in',
    '  order of first appearance; the full list, its order and the ordered flag are in each',
    '  file\'s key-value metadata `cellar.categories` (JSON `{column: {categories, ordered}}`).',
    '  pandas: `df[c] = df[c].cat.set_categories(cats, ordered=ordered)`.',
    '- Missing values (NA) are nulls, in every type. A float NaN in obs or var (pandas\' NA for',
    '  floats) is a null too, so SQL filters leave it out as `cellar query` filters do.',
    '- Integer columns keep their width, nullable integers and booleans included.',
    '- Files are zstd-compressed.',
    '',
    '## A first query (DuckDB, from this folder)',
    '',
    '```sql',
    'SELECT o.obs_id, v.var_id, x.soma_data',
    `FROM read_parquet(${sqlString(`ms/${m}/X/data/*.parquet`)}) AS x`,
    "JOIN 'obs.parquet' AS o ON o.soma_joinid = x.soma_dim_0",
    `JOIN ${sqlString(`ms/${m}/var.parquet`)} AS v ON v.soma_joinid = x.soma_dim_1`,
    'LIMIT 10;',
    '```',
    '',
    `Spark: \`spark.read.parquet("ms/${m}/X/data")\`; Dask: \`dask.dataframe.read_parquet("ms/${m}/X/data")\`;`,
    `pyarrow: \`pyarrow.dataset.dataset("ms/${m}/X/data")\`; Polars: \`pl.scan_parquet("ms/${m}/X/data/*.parquet")\`.`,
    '',
  ].join('\n');
}

function describeTable(name: string, main: string): string {
  if (name === 'obs') return 'one row per cell: `soma_joinid`, then the obs columns';
  if (name.endsWith(' var')) {
    const m = name.slice(0, -' var'.length);
    return m === main ? 'one row per gene: `soma_joinid`, then the var columns' : `one row per gene of ${m}, its own id space: \`soma_joinid\`, then its var columns`;
  }
  return 'an embedding: `soma_joinid` of each cell, then one column per component';
}
