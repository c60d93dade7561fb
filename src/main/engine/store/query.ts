// Queries on one store version: obs/var value filters → joinids, and the matching
// obs rows, var rows and X slice re-indexed 0..n.
import type { Column, DataFrame, NumericArray } from '../columns/column-model';
import { CellarError } from '../../../shared/errors';
import { evaluateFilter, parseValueFilter, selectedRows } from './filter/index';
import type { FrameReader, StoreReader } from './store-reader';
import type { CsrMatrix } from './x/row-reads';
import { takeRows } from '../columns/conversions';
import { GeneIndex, resolveGeneFilter } from './genes';

export interface QuerySpec {
  measurement: string;
  obs?: string;
  var?: string;
}

export interface QuerySelection {
  obsJoinids: Uint32Array;
  varJoinids: Uint32Array;
}

/** Columns Cellar keeps for itself; they are restored as indexes on export. */
export const OBS_ID = 'obs_id';
export const VAR_ID = 'var_id';

function allRows(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

export function selectRows(frame: FrameReader, filter: string | undefined): Uint32Array {
  if (filter === undefined || !filter.trim()) return allRows(frame.nRows);
  const ast = parseValueFilter(filter);
  return selectedRows(evaluateFilter(ast, frame));
}

export function resolveQuery(reader: StoreReader, spec: QuerySpec): QuerySelection {
  if (!reader.measurements.includes(spec.measurement)) {
    throw new CellarError('not_found', `The store has no measurement ${spec.measurement}; it has ${reader.measurements.join(', ') || 'none'}.`);
  }
  return {
    obsJoinids: selectRows(reader.obs, spec.obs),
    varJoinids: selectVarRows(reader, spec.measurement, spec.var),
  };
}

/** A var filter, where `gene == "NAME"` names genes by id or symbol (see genes.ts). */
export function selectVarRows(reader: StoreReader, measurement: string, filter: string | undefined): Uint32Array {
  const frame = reader.var(measurement);
  if (filter === undefined || !filter.trim()) return allRows(frame.nRows);
  const ast = resolveGeneFilter(parseValueFilter(filter), frame, () => GeneIndex.of(reader, measurement));
  return selectedRows(evaluateFilter(ast, frame));
}

/** The given rows of every column of a frame, in order, as a DataFrame indexed by `idColumn`. */
export function frameRows(frame: FrameReader, rows: Uint32Array, idColumn: string, indexName = '_index'): DataFrame {
  const columns: { name: string; column: Column }[] = [];
  let index: string[] = [];
  for (const name of frame.columnNames) {
    const taken = frame.columnRows ? frame.columnRows(name, rows)! : takeRows(frame.column(name)!, rows);
    if (name === idColumn) index = columnStrings(taken);
    else columns.push({ name, column: taken });
  }
  if (!frame.columnNames.includes(idColumn)) index = Array.from(rows, (r) => String(r));
  return { indexName, index, columns };
}

function columnStrings(column: Column): string[] {
  if (column.kind === 'string') return column.values.map((v) => v ?? '');
  if (column.kind === 'nullable-string') return column.values;
  if (column.kind === 'category') return Array.from(column.codes, (c) => (c < 0 ? '' : String(columnStrings(column.categories)[c])));
  return Array.from(column.values as ArrayLike<number | bigint>, (v) => String(v));
}

/**
 * Keeps the selected var columns of a CSR slice and renumbers them 0..k in the
 * order of `varJoinids` (ascending joinids keep rows sorted).
 */
export function selectColumns(csr: CsrMatrix, varJoinids: Uint32Array, nVarsTotal: number): CsrMatrix {
  if (varJoinids.length === nVarsTotal) return { ...csr, nCols: nVarsTotal, shape: [csr.shape[0], nVarsTotal] };
  const position = new Int32Array(nVarsTotal).fill(-1);
  for (let i = 0; i < varJoinids.length; i++) position[varJoinids[i]!] = i;
  const nRows = csr.shape[0];
  const indptr = new Float64Array(nRows + 1);
  let nnz = 0;
  for (let i = 0; i < csr.indices.length; i++) if (position[csr.indices[i]!]! >= 0) nnz++;
  const indices = new Int32Array(nnz);
  const data = new (csr.data.constructor as new (n: number) => NumericArray)(nnz);
  let at = 0;
  for (let r = 0; r < nRows; r++) {
    for (let i = Number(csr.indptr[r]); i < Number(csr.indptr[r + 1]); i++) {
      const p = position[csr.indices[i]!]!;
      if (p < 0) continue;
      indices[at] = p;
      (data as Float32Array)[at] = (csr.data as Float32Array)[i]!;
      at++;
    }
    indptr[r + 1] = at;
  }
  return { rowStart: 0, nRows, nCols: varJoinids.length, indptr, indices, data, shape: [nRows, varJoinids.length] };
}
