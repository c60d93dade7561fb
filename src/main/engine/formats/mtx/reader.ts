// 10x Matrix Market folders (filtered_feature_bc_matrix/): matrix.mtx is features ×
// barcodes, 1-based, and Cell Ranger writes its entries barcode by barcode, so cells come
// out as CSR row blocks in one streaming pass. barcodes.tsv names the cells; features.tsv
// (id, name, feature type) or genes.tsv (id, name) the features.
import { basename } from 'node:path';
import { CellarError } from '../../../../shared/errors';
import type { CsrBlock } from '../../columns/column-model';
import type { MatrixHandle, RowBlockOptions } from '../h5ad/types';
import { describeFeatureSelection, GENE_EXPRESSION, selectFeatures, type FeatureTable } from '../features';
import { countStoredEntries, frame, noExtras, type DatasetFile } from '../source';
import { isMatrixMarketName, locateMatrixMarket, type MatrixMarketFiles } from './folder';
import { readMatrixMarket, readMatrixMarketHeader, type MtxHeader } from './parse';
import { readLines } from './text';

const DEFAULT_MAX_ENTRIES = 4_000_000;
const DEFAULT_MAX_ROWS = 1 << 20;
const INT32_MAX = 2 ** 31 - 1;

/** A path that names a matrix file rather than an HDF5 file. */
export function isMatrixMarketInput(path: string): boolean {
  return isMatrixMarketName(basename(path));
}

/** Column names of Cell Ranger ARC's six-column features.tsv beyond id, name and type. */
const ARC_COLUMNS = ['chrom', 'start', 'end'];

async function readFeatures(files: MatrixMarketFiles, signal?: AbortSignal): Promise<FeatureTable> {
  const label = basename(files.features);
  const lines = await readLines(files.features, signal);
  const rows = lines.map((line) => line.split('\t'));
  const width = rows[0]?.length ?? 0;
  rows.forEach((fields, i) => {
    if (fields.length !== width || fields[0] === '') throw new CellarError('bad_element', `${label} line ${i + 1}: expected ${width} tab-separated fields (id, name${width > 2 ? ', feature type' : ''}), found ${fields.length}${fields[0] === '' ? ' with an empty id' : ''}.`);
  });
  const column = (k: number, fallback: (i: number) => string) => rows.map((f, i) => f[k] ?? fallback(i));
  const ids = column(0, () => '');
  const extraNames = width === 6 ? ARC_COLUMNS : Array.from({ length: Math.max(0, width - 3) }, (_, k) => `column_${k + 4}`);
  return {
    ids,
    names: column(1, (i) => ids[i]!),
    // genes.tsv has no type column: every row is a gene.
    types: column(2, () => GENE_EXPRESSION),
    extra: extraNames.map((name, k) => ({ name, values: column(3 + k, () => '') })),
  };
}

async function readBarcodes(path: string, signal?: AbortSignal): Promise<string[]> {
  const lines = await readLines(path, signal);
  return lines.map((line, i) => {
    const id = line.split('\t')[0]!;
    if (id === '') throw new CellarError('bad_element', `${basename(path)} line ${i + 1} is empty; every line names one barcode.`);
    return id;
  });
}

export async function openMatrixMarket(path: string, signal?: AbortSignal): Promise<DatasetFile> {
  const files = locateMatrixMarket(path);
  const label = basename(files.dir);
  const header = await readMatrixMarketHeader(files.matrix, signal);
  const barcodes = await readBarcodes(files.barcodes, signal);
  const features = await readFeatures(files, signal);
  const nFeatures = features.ids.length;
  const nCells = barcodes.length;
  // Cell Ranger writes features × barcodes; some tools write the transpose.
  let cellsAreColumns: boolean;
  if (header.nRows === nFeatures && header.nCols === nCells) cellsAreColumns = true;
  else if (header.nRows === nCells && header.nCols === nFeatures) cellsAreColumns = false;
  else {
    throw new CellarError('shape_mismatch', `${basename(files.matrix)} is ${header.nRows} × ${header.nCols}, but ${basename(files.features)} lists ${nFeatures} features and ${basename(files.barcodes)} ${nCells} barcodes.`);
  }
  const matrix = matrixMarketHandle(files, header, nCells, nFeatures, cellsAreColumns);
  const selection = selectFeatures(features, matrix, label);
  const { notices, dropped } = describeFeatureSelection(label, features, selection);
  if (!cellsAreColumns) notices.unshift(`${basename(files.matrix)} is barcodes × features (the transpose of Cell Ranger's layout); it is read that way.`);
  return {
    path,
    format: '10x-mtx',
    formatLabel: `10x Genomics Matrix Market folder (${files.featuresKind === 'features' ? 'Cell Ranger v3+: features.tsv' : 'Cell Ranger v2: genes.tsv'})`,
    layoutVersion: files.featuresKind === 'features' ? '10x-mtx-v3' : '10x-mtx-v2',
    nObs: nCells,
    nVars: selection.var.index.length,
    obs: frame('barcode', barcodes),
    var: selection.var,
    X: selection.X,
    ...noExtras(),
    featureTypes: selection.featureTypes,
    dropped,
    notices,
    // Reads every entry (order, bounds, count): a damaged matrix is refused at import.
    validate: (check) => countStoredEntries(selection.X, { signal, ...check }),
    close: () => undefined,
  };
}

function matrixMarketHandle(files: MatrixMarketFiles, header: MtxHeader, nCells: number, nFeatures: number, cellsAreColumns: boolean): MatrixHandle {
  return {
    path: basename(files.matrix),
    encoding: 'csr_matrix',
    dtype: header.field === 'real' ? 'float64' : 'int32',
    shape: [nCells, nFeatures],
    nnz: header.nnz,
    rowBlocks: (options) => matrixMarketRowBlocks(files.matrix, header, nCells, nFeatures, cellsAreColumns, options),
  };
}

/** Entries gathered for the block being built; they arrive ordered by cell. */
class BlockBuffer {
  cells = new Int32Array(1024);
  genes = new Int32Array(1024);
  values: Int32Array | Float64Array;
  n = 0;
  constructor(private readonly real: boolean) {
    this.values = real ? new Float64Array(1024) : new Int32Array(1024);
  }

  push(cell: number, gene: number, value: number): void {
    if (this.n === this.cells.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.cells = grow(this.cells);
      this.genes = grow(this.genes);
      this.values = grow(this.values);
    }
    this.cells[this.n] = cell;
    this.genes[this.n] = gene;
    this.values[this.n] = value;
    this.n++;
  }

  /** Rows [rowStart, rowEnd) from entries [from, to) as one CSR block (genes sorted within rows). */
  build(label: string, rowStart: number, rowEnd: number, from: number, to: number, nCols: number): CsrBlock {
    const nRows = rowEnd - rowStart;
    const indptr = new Int32Array(nRows + 1);
    for (let i = from; i < to; i++) indptr[this.cells[i]! - rowStart + 1]++;
    for (let r = 0; r < nRows; r++) indptr[r + 1] += indptr[r]!;
    const indices = this.genes.slice(from, to);
    const data = this.values.slice(from, to);
    for (let r = 0; r < nRows; r++) sortRow(label, rowStart + r, indices, data, indptr[r]!, indptr[r + 1]!);
    return { rowStart, nRows, nCols, indptr, indices, data };
  }
}

function sortRow(label: string, row: number, indices: Int32Array, data: Int32Array | Float64Array, start: number, end: number): void {
  let sorted = true;
  for (let p = start + 1; p < end; p++) {
    if (indices[p - 1]! >= indices[p]!) {
      sorted = false;
      break;
    }
  }
  if (sorted) return;
  const order = Array.from({ length: end - start }, (_, i) => start + i).sort((a, b) => indices[a]! - indices[b]!);
  const rowIndices = order.map((p) => indices[p]!);
  const rowValues = order.map((p) => data[p]!);
  for (let i = 0; i < order.length; i++) {
    if (i > 0 && rowIndices[i] === rowIndices[i - 1]) throw new CellarError('bad_element', `${label}: barcode ${row + 1} has two entries for feature ${rowIndices[i]! + 1}.`);
    indices[start + i] = rowIndices[i]!;
    data[start + i] = rowValues[i]!;
  }
}

async function* matrixMarketRowBlocks(path: string, header: MtxHeader, nCells: number, nFeatures: number, cellsAreColumns: boolean, options: RowBlockOptions | undefined): AsyncGenerator<CsrBlock> {
  const label = basename(path);
  const maxEntries = Math.max(1, options?.maxEntries ?? DEFAULT_MAX_ENTRIES);
  const maxRows = Math.max(1, options?.maxRows ?? DEFAULT_MAX_ROWS);
  const real = header.field === 'real';
  const buffer = new BlockBuffer(real);
  let blockStart = 0;
  let lastCell = -1;

  // Emits rows [blockStart, end) (all their entries are in the buffer) in blocks of at most maxRows rows.
  function* flush(end: number): Generator<CsrBlock> {
    let from = 0;
    while (blockStart < end) {
      const stop = Math.min(end, blockStart + maxRows);
      let to = from;
      while (to < buffer.n && buffer.cells[to]! < stop) to++;
      yield buffer.build(label, blockStart, stop, from, to, nFeatures);
      from = to;
      blockStart = stop;
    }
    buffer.n = 0;
  }

  for await (const batch of readMatrixMarket(path, { signal: options?.signal })) {
    const cellOf = cellsAreColumns ? batch.cols : batch.rows;
    const geneOf = cellsAreColumns ? batch.rows : batch.cols;
    for (let i = 0; i < batch.n; i++) {
      const cell = cellOf[i]!;
      if (cell !== lastCell) {
        if (cell < lastCell) {
          const axis = cellsAreColumns ? 'column' : 'row';
          throw new CellarError('bad_element', `${label}: its entries are not grouped by barcode (${axis} ${cell + 1} comes after ${axis} ${lastCell + 1}); Cellar reads Matrix Market files whose entries go barcode by barcode, as Cell Ranger writes them.`);
        }
        if (buffer.n >= maxEntries || cell - blockStart >= maxRows) yield* flush(cell);
        lastCell = cell;
      }
      const value = batch.values[i]!;
      if (!real && (value > INT32_MAX || value < -INT32_MAX - 1)) throw new CellarError('bad_element', `${label}: the value ${value} (barcode ${cell + 1}) does not fit a 32-bit integer.`);
      buffer.push(cell, geneOf[i]!, value);
    }
  }
  yield* flush(nCells);
}
