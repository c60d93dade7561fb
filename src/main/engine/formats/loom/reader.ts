// loom files (loompy's HDF5 layout, versions 2 and 3): /matrix is a dense genes × cells
// array, /layers/<name> more of the same shape, /row_attrs one dataset per gene attribute,
// /col_attrs one per cell attribute, /row_graphs and /col_graphs sparse graphs. Global
// attributes sit in /attrs (loom 3) or on the root (loom 2).
//
// Cells become rows: the matrix is read in slabs of whole cells (all genes × a few
// cells, aligned to the dataset's chunks) and transposed into CSR row blocks.
import { CellarError } from '../../../../shared/errors';
import { badElement } from '../h5ad/encodings/context';
import { datasetShape, elementDtype, h5ErrorReason, isDataset, readNumeric, readStringAttribute, type H5Dataset, type H5Group } from '../h5ad/h5';
import type { Column, CsrBlock, DataFrame, NumericArray } from '../../columns/column-model';
import type { DenseHandle, MatrixHandle } from '../h5ad/types';
import { child, childDataset, childGroup, childNames, columnAt, openHdf5, readingOrClose, type OpenHdf5 } from '../hdf5';
import { frame, noExtras, repeatedIds, type DatasetFile, type DroppedPart } from '../source';

export const LOOM_NO_MATRIX = 'it has no /matrix dataset (the genes × cells main matrix every loom file holds)';

/** Attributes that name genes and cells, most specific first (loompy: Accession and Gene, CellID; scanpy's write_loom: var_names, obs_names). */
const GENE_ID_ATTRS = ['Accession', 'Gene', 'var_names'];
const CELL_ID_ATTRS = ['CellID', 'obs_names'];

const DEFAULT_MAX_ENTRIES = 4_000_000;

export async function openLoom(path: string): Promise<DatasetFile> {
  const opened = await openHdf5(path);
  return readingOrClose(opened, () => readLoom(path, opened));
}

function specVersion(root: H5Group): string | undefined {
  const attrs = childGroup(root, 'attrs');
  const ds = attrs ? childDataset(attrs, 'LOOM_SPEC_VERSION') : null;
  if (ds && elementDtype(ds.metadata) === 'string') {
    const value = ds.value as unknown;
    return Array.isArray(value) ? String(value[0]) : String(value);
  }
  return readStringAttribute(root, 'LOOM_SPEC_VERSION');
}

function readLoom(path: string, opened: OpenHdf5): DatasetFile {
  const { file: root, label, ctx } = opened;
  const matrix = childDataset(root, 'matrix');
  if (!matrix) throw new CellarError('unknown_format', `${label} is not a loom file: ${LOOM_NO_MATRIX}.`);
  const dims = datasetShape(matrix) ?? [];
  if (dims.length !== 2) throw badElement(ctx, '/matrix', `must be 2-dimensional (genes × cells), found shape ${dims.join(' × ') || 'scalar'}`);
  const [nGenes, nCells] = dims as [number, number];
  const version = specVersion(root);
  // loompy 2 stored non-ASCII text as XML character references in ASCII strings.
  const unescape = !version || version.startsWith('2') || version.startsWith('1');
  const notices: string[] = [];
  const dropped: DroppedPart[] = [];

  const rows = readAttrs(opened, 'row_attrs', nGenes, unescape, notices);
  const cols = readAttrs(opened, 'col_attrs', nCells, unescape, notices);
  const varFrame = indexFrame(label, 'row_attrs', rows.columns, GENE_ID_ATTRS, nGenes, notices);
  const obsFrame = indexFrame(label, 'col_attrs', cols.columns, CELL_ID_ATTRS, nCells, notices);

  const layers = new Map<string, MatrixHandle>();
  const layerGroup = childGroup(root, 'layers');
  for (const name of layerGroup ? childNames(layerGroup) : []) {
    const ds = childDataset(layerGroup!, name);
    const shape = ds ? datasetShape(ds) ?? [] : [];
    if (!ds || shape[0] !== nGenes || shape[1] !== nCells || shape.length !== 2) {
      notices.push(`${label}: layers/${name} is not a ${nGenes} × ${nCells} array and is not read.`);
      continue;
    }
    layers.set(name, openLoomMatrix(opened, `/layers/${name}`, ds));
  }
  for (const graphs of ['col_graphs', 'row_graphs']) {
    const g = childGroup(root, graphs);
    for (const name of g ? childNames(g) : []) {
      dropped.push({ element: 'graphs', name: `${graphs}/${name}`, detail: 'loom graphs are not carried' });
      notices.push(`${label}: ${graphs}/${name} (a graph) is not imported.`);
    }
  }
  return {
    path,
    format: 'loom',
    formatLabel: `loom${version ? ` ${version}` : ''} (genes × cells, read with cells as rows)`,
    layoutVersion: `loom-${version ?? 'unknown'}`,
    nObs: nCells,
    nVars: nGenes,
    obs: obsFrame,
    var: varFrame,
    X: openLoomMatrix(opened, '/matrix', matrix),
    ...noExtras(),
    layers,
    obsm: cols.multi,
    varm: rows.multi,
    featureTypes: [],
    dropped,
    notices,
    validate: () => Promise.resolve(),
    close: () => opened.close(),
  };
}

/** 1-d attributes become columns; 2-d numeric ones (n × k) become obsm/varm entries. */
function readAttrs(opened: OpenHdf5, groupName: string, length: number, unescape: boolean, notices: string[]): { columns: { name: string; column: Column }[]; multi: Map<string, DenseHandle> } {
  const columns: { name: string; column: Column }[] = [];
  const multi = new Map<string, DenseHandle>();
  const group = childGroup(opened.file, groupName);
  if (!group) {
    notices.push(`${opened.label} has no /${groupName}.`);
    return { columns, multi };
  }
  for (const name of childNames(group)) {
    const node = child(group, name);
    const shape = isDataset(node) ? datasetShape(node) ?? [] : [];
    if (isDataset(node) && shape.length === 1) {
      const column = columnAt(node, length);
      if (column) {
        if (unescape && column.kind === 'string') column.values = column.values.map((v) => (v === null ? v : unescapeXmlReferences(v)));
        columns.push({ name, column });
        continue;
      }
    }
    const dtype = isDataset(node) ? elementDtype(node.metadata) : 'other';
    if (isDataset(node) && shape.length === 2 && shape[0] === length && dtype !== 'string' && dtype !== 'other' && dtype !== 'bool') {
      const ds = node;
      multi.set(name, { path: ds.path, dtype, shape, read: () => readNumeric(ds) });
      continue;
    }
    notices.push(`${opened.label}: ${groupName}/${name} is not a ${length}-long array and is not read.`);
  }
  return { columns, multi };
}

/**
 * The frame indexed by the first id attribute whose values are unique (taken out of the
 * columns, as loompy and scanpy do). Without one, the first present id attribute is made
 * unique with -1, -2, … suffixes (anndata's make-unique rule); without any, positions.
 */
function indexFrame(label: string, groupName: string, columns: { name: string; column: Column }[], candidates: string[], length: number, notices: string[]): DataFrame {
  const strings = (name: string): string[] | null => {
    const c = columns.find((x) => x.name === name)?.column;
    if (!c) return null;
    if (c.kind === 'string') return c.values.map((v) => v ?? '');
    if (c.kind === 'numeric') return Array.from(c.values as ArrayLike<number | bigint>, String);
    return null;
  };
  const present = candidates.filter((name) => strings(name) !== null);
  const unique = present.find((name) => repeatedIds(strings(name)!, 1).length === 0);
  const chosen = unique ?? present[0];
  if (!chosen) {
    notices.push(`${label}: ${groupName} has none of ${candidates.join(', ')}; its ${groupName === 'row_attrs' ? 'genes' : 'cells'} are named by position (0, 1, …).`);
    return frame('_index', Array.from({ length }, (_, i) => String(i)), columns);
  }
  let index = strings(chosen)!;
  if (!unique) {
    index = makeUnique(index);
    notices.push(`${label}: ${groupName}/${chosen} repeats values (${repeatedIds(strings(chosen)!).join(', ')}); repeats get -1, -2, … suffixes.`);
  }
  return frame(chosen, index, columns.filter((c) => c.name !== chosen));
}

function makeUnique(ids: string[]): string[] {
  const taken = new Set(ids);
  const count = new Map<string, number>();
  const seen = new Set<string>();
  return ids.map((id) => {
    if (!seen.has(id)) {
      seen.add(id);
      return id;
    }
    let n = count.get(id) ?? 0;
    let candidate: string;
    do candidate = `${id}-${++n}`;
    while (taken.has(candidate));
    count.set(id, n);
    taken.add(candidate);
    return candidate;
  });
}

const NAMED_REFERENCES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXmlReferences(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return NAMED_REFERENCES[ref] ?? whole;
  });
}

/** A genes × cells dense dataset read as cells × genes CSR row blocks. */
function openLoomMatrix(opened: OpenHdf5, path: string, ds: H5Dataset): MatrixHandle {
  const { ctx } = opened;
  const [nGenes, nCells] = datasetShape(ds) as [number, number];
  const dtype = elementDtype(ds.metadata);
  if (dtype === 'string' || dtype === 'other' || dtype === 'bool') throw badElement(ctx, path, 'must hold numbers');
  if (ds.metadata.size > 1 && !ds.metadata.littleEndian) throw badElement(ctx, path, 'big-endian numbers are not supported');
  const chunkWidth = ds.metadata.chunks?.[1] ?? 1;
  return {
    path,
    encoding: 'array',
    dtype,
    shape: [nCells, nGenes],
    nnz: nGenes * nCells,
    async *rowBlocks(options) {
      const budget = Math.max(1, Math.floor((options?.maxEntries ?? DEFAULT_MAX_ENTRIES) / Math.max(1, nGenes)));
      let cells = Math.max(1, Math.min(options?.maxRows ?? nCells, budget));
      // Whole chunks per slab, so no chunk is decompressed twice.
      if (cells > chunkWidth) cells -= cells % chunkWidth;
      for (let c0 = 0; c0 < nCells; c0 += cells) {
        if (options?.signal?.aborted) throw new CellarError('cancelled', `${opened.label}: reading ${path.slice(1)} was cancelled.`);
        ctx.assertOpen();
        const c1 = Math.min(nCells, c0 + cells);
        let slab: NumericArray;
        try {
          slab = (nGenes === 0 ? new Float32Array(0) : ds.slice([[0, nGenes], [c0, c1]])) as NumericArray;
        } catch (err) {
          throw badElement(ctx, path, `could not be read: ${h5ErrorReason(err)}`);
        }
        yield { rowStart: c0, ...transposeToCsr(slab, nGenes, c1 - c0) };
      }
    },
  };
}

/** A row-major genes × cells slab as CSR of cells × genes, zeros left out; genes ascend in each row. */
export function transposeToCsr(slab: NumericArray, nGenes: number, nCells: number): Omit<CsrBlock, 'rowStart'> {
  const values = slab as Float64Array; // compared with 0 and copied: the same for every element type
  const zero = (slab instanceof BigInt64Array || slab instanceof BigUint64Array ? 0n : 0) as unknown as number;
  const indptr = new Int32Array(nCells + 1);
  for (let g = 0; g < nGenes; g++) {
    const base = g * nCells;
    for (let c = 0; c < nCells; c++) if (values[base + c] !== zero) indptr[c + 1]++;
  }
  for (let c = 0; c < nCells; c++) indptr[c + 1] += indptr[c]!;
  const nnz = indptr[nCells]!;
  const indices = new Int32Array(nnz);
  const data = new (slab.constructor as new (n: number) => NumericArray)(nnz);
  const out = data as Float64Array;
  const cursor = indptr.slice(0, nCells);
  for (let g = 0; g < nGenes; g++) {
    const base = g * nCells;
    for (let c = 0; c < nCells; c++) {
      const v = values[base + c]!;
      if (v === zero) continue;
      const p = cursor[c]++;
      indices[p] = g;
      out[p] = v;
    }
  }
  return { nRows: nCells, nCols: nGenes, indptr, indices, data };
}
