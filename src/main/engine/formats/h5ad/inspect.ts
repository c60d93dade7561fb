// `cellar inspect`: what an open h5ad holds, as the stable JSON shape of
// SPEC §5 (the IPC contract's InspectSummary) plus a few extra fields, and
// as a readable multi-line summary for the terminal.
import { basename } from 'node:path';
import type { ColumnSummary, InspectSummary } from '../../../../shared/contract';
import { formatCount } from '../../../../shared/format-number';
import { columnDtype, type ColumnDtype, type DataFrame } from '../../columns/column-model';
import type { DenseHandle, H5adFile, MatrixHandle } from './types';
import { countCategories, previewRows, sampleXValues } from './inspect-values';
import { describeXValues } from '../../../../shared/x-values';

export interface InspectColumn extends ColumnSummary {
  dtype: ColumnDtype;
  /** For categoricals: the dtype of the categories themselves. */
  categories_dtype?: ColumnDtype;
}

export interface InspectMatrix {
  encoding: MatrixHandle['encoding'];
  dtype: string;
  shape: [number, number];
  /** Stored entries: non-zeros for sparse, rows × cols for dense. */
  nnz: number;
}

export interface InspectReport extends InspectSummary {
  file: string;
  /** Root encoding version, or "legacy" for untagged (anndata ≤ 0.7) files. */
  layout_version: string;
  obs_index_name: string;
  var_index_name: string;
  obs: InspectColumn[];
  var: InspectColumn[];
  X: InspectMatrix | null;
  layer_info: Record<string, InspectMatrix>;
  raw: { n_vars: number; var: InspectColumn[]; X: InspectMatrix | null; varm: Record<string, number[]> } | null;
  /** Elements that were skipped (e.g. awkward arrays), one sentence each. */
  notices: string[];
}

function describeColumns(frame: DataFrame, withCounts = false): InspectColumn[] {
  return frame.columns.map(({ name, column }) => {
    if (column.kind !== 'category') return { name, dtype: columnDtype(column) };
    const counted = withCounts ? countCategories(column) : null;
    return {
      name,
      dtype: 'category',
      n_categories: column.categories.kind === 'category' ? 0 : column.categories.values.length,
      ordered: column.ordered,
      categories_dtype: columnDtype(column.categories),
      ...(counted ? { category_counts: counted.counts, n_missing: counted.missing } : {}),
    };
  });
}

function describeMatrix(handle: MatrixHandle): InspectMatrix {
  return { encoding: handle.encoding, dtype: handle.dtype, shape: [...handle.shape], nnz: handle.nnz };
}

function shapeOf(entry: DenseHandle | MatrixHandle | DataFrame): number[] {
  return 'index' in entry ? [entry.index.length, entry.columns.length] : [...entry.shape];
}

function shapes(map: Map<string, DenseHandle | MatrixHandle | DataFrame>): Record<string, number[]> {
  return Object.fromEntries([...map].map(([name, entry]) => [name, shapeOf(entry)]));
}

export function inspectH5ad(file: H5adFile): InspectReport {
  return {
    file: basename(file.path),
    layout_version: file.layoutVersion,
    n_obs: file.nObs,
    n_vars: file.nVars,
    obs_index_name: file.obs.indexName,
    var_index_name: file.var.indexName,
    obs: describeColumns(file.obs, true),
    var: describeColumns(file.var),
    X: file.X ? describeMatrix(file.X) : null,
    X_values: sampleXValues(file.X),
    obs_preview: previewRows(file.obs),
    layers: [...file.layers.keys()],
    layer_info: Object.fromEntries([...file.layers].map(([name, handle]) => [name, describeMatrix(handle)])),
    obsm: shapes(file.obsm),
    varm: shapes(file.varm),
    obsp: [...file.obsp.keys()],
    varp: [...file.varp.keys()],
    uns: [...file.unsKeys],
    raw: file.raw
      ? {
          n_vars: file.raw.var.index.length,
          var: describeColumns(file.raw.var),
          X: file.raw.X ? describeMatrix(file.raw.X) : null,
          varm: shapes(file.raw.varm),
        }
      : null,
    notices: [...file.notices],
  };
}

const number = formatCount;

function matrixLine(m: InspectMatrix): string {
  const [rows, cols] = m.shape;
  const cells = rows * cols;
  const stored = m.encoding === 'array' ? 'dense' : `${number(m.nnz)} stored${cells > 0 ? ` (${((100 * m.nnz) / cells).toFixed(1)}% of cells)` : ''}`;
  return `${m.encoding} ${m.dtype}, ${number(rows)} × ${number(cols)}, ${stored}`;
}

function columnLines(columns: InspectColumn[]): string[] {
  if (columns.length === 0) return ['  (no columns)'];
  const width = Math.max(...columns.map((c) => c.name.length));
  return columns.map((c) => {
    let detail: string = c.dtype;
    if (c.dtype === 'category') {
      const kind = c.categories_dtype ? `${c.categories_dtype} ` : '';
      detail += ` (${number(c.n_categories ?? 0)} ${kind}categories${c.ordered ? ', ordered' : ''})`;
    }
    return `  ${c.name.padEnd(width)}  ${detail}`;
  });
}

function listLine(label: string, items: string[]): string {
  return `${label}: ${items.length ? items.join(', ') : '—'}`;
}

function shapeItems(record: Record<string, number[]>): string[] {
  return Object.entries(record).map(([name, shape]) => `${name} (${shape.map(number).join(' × ')})`);
}

export function formatInspect(report: InspectReport): string {
  const lines: string[] = [];
  const layout = report.layout_version === 'legacy' ? 'legacy layout (anndata ≤ 0.7)' : `AnnData encoding ${report.layout_version}`;
  lines.push(`${report.file}: ${number(report.n_obs)} observations × ${number(report.n_vars)} variables, ${layout}`);
  lines.push(`X: ${report.X ? matrixLine(report.X) : 'none'}`);
  if (report.X_values) lines.push(`X values: ${describeXValues(report.X_values)}`);
  lines.push(`obs (${report.obs.length} columns, index "${report.obs_index_name}"):`, ...columnLines(report.obs));
  lines.push(`var (${report.var.length} columns, index "${report.var_index_name}"):`, ...columnLines(report.var));
  lines.push(listLine('layers', report.layers.map((name) => `${name} (${matrixLine(report.layer_info[name])})`)));
  lines.push(listLine('obsm', shapeItems(report.obsm)));
  lines.push(listLine('varm', shapeItems(report.varm)));
  lines.push(listLine('obsp', report.obsp));
  lines.push(listLine('varp', report.varp));
  lines.push(listLine('uns', report.uns));
  if (report.raw) {
    lines.push(`raw: ${number(report.raw.n_vars)} variables; X: ${report.raw.X ? matrixLine(report.raw.X) : 'none'}`);
    lines.push(`raw.var (${report.raw.var.length} columns):`, ...columnLines(report.raw.var));
    lines.push(listLine('raw.varm', shapeItems(report.raw.varm)));
  } else {
    lines.push('raw: none');
  }
  if (report.notices.length) lines.push('notices:', ...report.notices.map((n) => `  ${n}`));
  return lines.join('\n');
}
