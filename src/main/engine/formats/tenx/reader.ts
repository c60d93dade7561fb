// 10x Genomics feature-barcode matrices in HDF5 (Cell Ranger's filtered/raw_feature_bc_matrix.h5).
//
// v3 (Cell Ranger ≥ 3): /matrix holds data, indices, indptr, shape = [features, barcodes],
// barcodes, and features/{id, name, feature_type, genome, …}. The matrix is features ×
// barcodes in CSC, so each barcode's entries are contiguous: read as it is, it is the CSR
// of barcodes × features, the orientation Cellar stores (cells are rows).
// v2 (Cell Ranger ≤ 2): one group per genome, each with barcodes, genes, gene_names and its
// own genes × barcodes CSC matrix; the genomes' genes are put side by side.
//
// Gene Expression features become X; other feature types (Antibody Capture, CRISPR Guide
// Capture, Peaks, …) are left out and named.
import { CellarError } from '../../../../shared/errors';
import { datasetShape, readNumeric, type H5Group } from '../h5ad/h5';
import { openSparseMatrix } from '../h5ad/matrix';
import type { CsrBlock, NumericArray } from '../../columns/column-model';
import type { MatrixHandle } from '../h5ad/types';
import { childDataset, childGroup, childNames, openHdf5, readingOrClose, stringsAt, type OpenHdf5 } from '../hdf5';
import { describeFeatureSelection, selectFeatures, type FeatureTable } from '../features';
import { countStoredEntries, frame, noExtras, type DatasetFile } from '../source';

export type TenxLayout = 'v3' | 'v2';

const MATRIX_PARTS = ['data', 'indices', 'indptr', 'shape', 'barcodes'];

function hasParts(group: H5Group, names: string[]): boolean {
  const present = childNames(group);
  return names.every((n) => present.includes(n));
}

/** Which 10x layout an HDF5 file's root has, if any. */
export function tenxLayoutOf(root: H5Group): TenxLayout | null {
  const matrix = childGroup(root, 'matrix');
  if (matrix && hasParts(matrix, MATRIX_PARTS) && childGroup(matrix, 'features')) return 'v3';
  const names = childNames(root);
  if (names.length && names.every((n) => { const g = childGroup(root, n); return g !== null && hasParts(g, [...MATRIX_PARTS, 'genes']); })) return 'v2';
  return null;
}

/** Why an HDF5 file is not a 10x matrix, in a sentence that names both layouts. */
export function notTenxMessage(label: string, root: H5Group): string {
  const names = childNames(root);
  const matrix = childGroup(root, 'matrix');
  const missing = matrix ? [...MATRIX_PARTS, 'features'].filter((n) => !childNames(matrix).includes(n)) : [];
  const found = matrix ? `its /matrix group lacks ${missing.join(', ')}` : `it has ${names.length ? names.map((n) => `/${n}`).join(', ') : 'nothing'} at the top`;
  return `${label} is an HDF5 file but not a 10x Genomics feature-barcode matrix: ${found}. Cellar reads the Cell Ranger v3 layout (a /matrix group with data, indices, indptr, shape, barcodes and features) and the v2 layout (one group per genome with data, indices, indptr, shape, barcodes and genes).`;
}

export async function openTenxH5(path: string): Promise<DatasetFile> {
  const opened = await openHdf5(path);
  return readingOrClose(opened, () => {
    const layout = tenxLayoutOf(opened.file);
    if (!layout) throw new CellarError('unknown_format', notTenxMessage(opened.label, opened.file));
    const read = layout === 'v3' ? readV3(opened) : readV2(opened);
    const selection = selectFeatures(read.features, read.matrix, opened.label);
    const label = opened.label;
    const { notices, dropped } = describeFeatureSelection(label, read.features, selection);
    notices.unshift(...read.notices);
    const genomes = [...new Set(read.features.genome ?? [])].filter(Boolean);
    return {
      path,
      format: '10x-h5',
      formatLabel: `10x Genomics HDF5 feature-barcode matrix (Cell Ranger ${layout} layout${genomes.length > 1 ? `, genomes ${genomes.join(', ')}` : ''})`,
      layoutVersion: `10x-${layout}`,
      nObs: read.barcodes.length,
      nVars: selection.var.index.length,
      obs: frame('barcode', read.barcodes),
      var: selection.var,
      X: selection.X,
      ...noExtras(),
      featureTypes: selection.featureTypes,
      dropped,
      notices,
      // Only a matrix that lost feature types is read through: for its exact stored entries.
      async validate(check) {
        if (selection.X !== read.matrix) await countStoredEntries(selection.X, check);
      },
      close: () => opened.close(),
    };
  });
}

interface TenxContent {
  barcodes: string[];
  features: FeatureTable;
  matrix: MatrixHandle;
  notices: string[];
}

function shapeOf(opened: OpenHdf5, group: H5Group): [number, number] {
  const ds = childDataset(group, 'shape')!;
  const values = (datasetShape(ds) ?? []).length === 1 ? Array.from(readNumeric(ds) as ArrayLike<number | bigint>, Number) : [];
  if (values.length !== 2 || values.some((v) => !Number.isSafeInteger(v) || v < 0)) throw new CellarError('bad_element', `${opened.label}: ${group.path.slice(1)}/shape must hold two counts (features, barcodes).`);
  return [values[0]!, values[1]!];
}

function readV3(opened: OpenHdf5): TenxContent {
  const label = opened.label;
  const m = childGroup(opened.file, 'matrix')!;
  const [nFeatures, nCells] = shapeOf(opened, m);
  const barcodes = stringsAt(label, childDataset(m, 'barcodes')!, nCells);
  const f = childGroup(m, 'features')!;
  const required = (name: string): string[] => {
    const ds = childDataset(f, name);
    if (!ds) throw new CellarError('bad_element', `${label}: matrix/features/${name} is missing (Cell Ranger v3 files list every feature's id, name and feature_type).`);
    return stringsAt(label, ds, nFeatures);
  };
  const ids = required('id');
  const names = required('name');
  const types = required('feature_type');
  const genomeDs = childDataset(f, 'genome');
  const genome = genomeDs ? stringsAt(label, genomeDs, nFeatures) : undefined;
  // Feature barcoding columns (read, pattern, sequence, …) are listed in _all_tag_keys.
  const tagDs = childDataset(f, '_all_tag_keys');
  const tags = (tagDs ? stringsAt(label, tagDs) : []).filter((t) => t !== 'genome' && childDataset(f, t));
  const extra = tags.map((name) => ({ name, values: stringsAt(label, childDataset(f, name)!, nFeatures) }));
  const matrix = openSparseMatrix(opened.ctx, '/matrix', m, 'csr', [nCells, nFeatures]);
  return { barcodes, features: { ids, names, types, genome, extra }, matrix, notices: [] };
}

function readV2(opened: OpenHdf5): TenxContent {
  const label = opened.label;
  const genomes = childNames(opened.file);
  const parts = genomes.map((genome) => {
    const g = childGroup(opened.file, genome)!;
    const [nGenes, nCells] = shapeOf(opened, g);
    const barcodes = stringsAt(label, childDataset(g, 'barcodes')!, nCells);
    const ids = stringsAt(label, childDataset(g, 'genes')!, nGenes);
    const namesDs = childDataset(g, 'gene_names');
    const names = namesDs ? stringsAt(label, namesDs, nGenes) : ids;
    return { genome, barcodes, ids, names, matrix: openSparseMatrix(opened.ctx, `/${genome}`, g, 'csr', [nCells, nGenes]) };
  });
  const barcodes = parts[0]!.barcodes;
  for (const p of parts.slice(1)) {
    if (p.barcodes.length !== barcodes.length || p.barcodes.some((b, i) => b !== barcodes[i])) {
      throw new CellarError('bad_element', `${label}: the genomes ${parts[0]!.genome} and ${p.genome} list different barcodes; Cellar reads a multi-genome v2 file only when every genome has the same barcodes in the same order.`);
    }
  }
  const features: FeatureTable = {
    ids: parts.flatMap((p) => p.ids),
    names: parts.flatMap((p) => p.names),
    types: parts.flatMap((p) => p.ids.map(() => 'Gene Expression')),
    genome: parts.flatMap((p) => p.ids.map(() => p.genome)),
    extra: [],
  };
  const matrix = parts.length === 1 ? parts[0]!.matrix : sideBySide(parts.map((p) => p.matrix), barcodes.length);
  return { barcodes, features, matrix, notices: [] };
}

/** Matrices with the same rows and their columns one after another (v2 genomes). */
function sideBySide(handles: MatrixHandle[], nRows: number): MatrixHandle {
  const dtype = handles[0]!.dtype;
  if (handles.some((h) => h.dtype !== dtype)) throw new CellarError('bad_element', `${handles.map((h) => `${h.path.slice(1)} holds ${h.dtype}`).join(', ')}: the genomes' counts must have one type.`);
  const offsets = [0];
  for (const h of handles) offsets.push(offsets[offsets.length - 1]! + h.shape[1]);
  const nCols = offsets[handles.length]!;
  const nnz = handles.reduce((n, h) => n + h.nnz, 0);
  return {
    path: '/',
    encoding: 'csr_matrix',
    dtype,
    shape: [nRows, nCols],
    nnz,
    async *rowBlocks(options) {
      // Same rows from every genome: blocks are cut by rows only, sized to the average entries per row.
      const maxEntries = options?.maxEntries ?? 4_000_000;
      const rows = Math.max(1, Math.min(options?.maxRows ?? nRows, Math.floor((maxEntries * Math.max(1, nRows)) / Math.max(1, nnz))));
      const iterators = handles.map((h) => h.rowBlocks({ ...options, maxRows: rows, maxEntries: Number.MAX_SAFE_INTEGER })[Symbol.asyncIterator]());
      for (;;) {
        const steps = await Promise.all(iterators.map((it) => it.next()));
        if (steps.every((s) => s.done)) return;
        const blocks = steps.map((s) => s.value as CsrBlock | undefined);
        const first = blocks[0];
        if (!first || blocks.some((b) => !b || b.rowStart !== first.rowStart || b.nRows !== first.nRows)) throw new CellarError('internal', 'The genomes of a v2 file went out of step while reading.');
        yield joinBlocks(blocks as CsrBlock[], offsets, nCols);
      }
    },
  };
}

function joinBlocks(blocks: CsrBlock[], offsets: number[], nCols: number): CsrBlock {
  const total = blocks.reduce((n, b) => n + b.indices.length, 0);
  const first = blocks[0]!;
  const indices = new Int32Array(total);
  const data = new (first.data.constructor as new (n: number) => NumericArray)(total);
  const dst = data as Float64Array; // one element type across genomes
  const indptr = new Int32Array(first.nRows + 1);
  let p = 0;
  for (let r = 0; r < first.nRows; r++) {
    for (const [g, b] of blocks.entries()) {
      const src = b.data as Float64Array;
      const end = Number(b.indptr[r + 1]);
      for (let i = Number(b.indptr[r]); i < end; i++) {
        indices[p] = b.indices[i]! + offsets[g]!;
        dst[p++] = src[i]!;
      }
    }
    indptr[r + 1] = p;
  }
  return { rowStart: first.rowStart, nRows: first.nRows, nCols, indptr, indices, data };
}
