// The readers of 10x HDF5, Matrix Market and loom in small row blocks: whatever the block
// bounds (a few entries, a few rows), the blocks put together equal what h5py / scipy read.
// And the Matrix Market parser on what real files do and damaged files do: comments and
// blank lines, CRLF, lines across chunk boundaries, the transposed orientation, a row's
// entries in any order, real values; and entries out of cell order, twice, out of bounds,
// a gzip stream cut short — each refused with a sentence naming the file and the place.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetKey, datasetSuffix, hashDataset } from '../../src/main/engine/ops/dataset-files';
import { openDataset } from '../../src/main/engine/formats/open-dataset';
import type { CsrBlock } from '../../src/main/engine/columns/column-model';
import type { MatrixHandle, RowBlockOptions } from '../../src/main/engine/formats/h5ad/types';
import { readReference, type ReferenceSource } from '../integration/helpers/format-reference';

const FORMATS = join(__dirname, '..', 'fixtures', 'formats');
const work = mkdtempSync(join(tmpdir(), 'cellar-formats-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function blocksOf(handle: MatrixHandle, options: RowBlockOptions): Promise<CsrBlock[]> {
  const out: CsrBlock[] = [];
  for await (const b of handle.rowBlocks(options)) out.push(b);
  return out;
}

/** Blocks back to dense rows, checking they tile the rows in order with ascending columns. */
function dense(blocks: CsrBlock[], shape: [number, number]): number[][] {
  const rows: number[][] = [];
  let ascending = true;
  for (const b of blocks) {
    expect(b.rowStart).toBe(rows.length);
    for (let r = 0; r < b.nRows; r++) {
      const row = new Array<number>(shape[1]).fill(0);
      let last = -1;
      for (let p = Number(b.indptr[r]); p < Number(b.indptr[r + 1]); p++) {
        if (b.indices[p]! <= last) ascending = false;
        last = b.indices[p]!;
        row[last] = Number(b.data[p]);
      }
      rows.push(row);
    }
  }
  expect(ascending).toBe(true);
  expect(rows.length).toBe(shape[0]);
  return rows;
}

async function readAll(path: string, options: RowBlockOptions = {}): Promise<{ X: number[][]; blocks: number; obs: string[]; var: string[]; layers: Record<string, number[][]> }> {
  const file = await openDataset(path);
  try {
    const blocks = await blocksOf(file.X!, options);
    const layers: Record<string, number[][]> = {};
    for (const [name, handle] of file.layers) layers[name] = dense(await blocksOf(handle, options), handle.shape);
    return { X: dense(blocks, file.X!.shape), blocks: blocks.length, obs: file.obs.index, var: file.var.index, layers };
  } finally {
    file.close();
  }
}

describe('row blocks of every reader equal the reference whatever their size', () => {
  let ref: Record<string, ReferenceSource>;
  const inputs = {
    tenx_v3: { kind: '10x-h5', path: join(FORMATS, 'tenx_v3.h5') },
    tenx_v2: { kind: '10x-h5', path: join(FORMATS, 'tenx_v2.h5') },
    mtx_v3: { kind: 'mtx', path: join(FORMATS, 'mtx_v3') },
    mtx_v2: { kind: 'mtx', path: join(FORMATS, 'mtx_v2') },
    loom3: { kind: 'loom', path: join(FORMATS, 'loom3.loom') },
  } as const;
  beforeAll(() => {
    ref = readReference(inputs);
  }, 60_000);

  const sizes: [string, RowBlockOptions][] = [
    ['one block', {}],
    ['at most 5 entries', { maxEntries: 5 }],
    ['at most 2 rows', { maxRows: 2 }],
    ['one entry, one row', { maxEntries: 1, maxRows: 1 }],
  ];
  for (const name of Object.keys(inputs) as (keyof typeof inputs)[]) {
    it.each(sizes)(`${name}: %s`, async (_what, options) => {
      const got = await readAll(inputs[name].path, options);
      const want = ref[name]!;
      expect(got.X).toEqual(want.X);
      expect(got.obs).toEqual(want.cells);
      expect(got.var).toEqual(want.ids);
      if (want.layers) expect(got.layers).toEqual(want.layers);
      if (options.maxRows === 1) expect(got.blocks).toBe(want.cells.length);
    });
  }
});

/** Writes a Matrix Market folder (genes.tsv with `nGenes` genes, `nCells` barcodes) holding `matrix`. */
function folder(name: string, matrix: string | Buffer, nGenes = 3, nCells = 4, gz = false): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const write = (file: string, text: string | Buffer) => writeFileSync(join(dir, gz ? `${file}.gz` : file), gz ? gzipSync(text) : text);
  write('matrix.mtx', matrix);
  write('barcodes.tsv', Array.from({ length: nCells }, (_, i) => `c${i}`).join('\n') + '\n');
  write('genes.tsv', Array.from({ length: nGenes }, (_, i) => `g${i}\tG${i}`).join('\n') + '\n');
  return dir;
}

const BANNER = '%%MatrixMarket matrix coordinate integer general\n';

async function validate(path: string): Promise<void> {
  const file = await openDataset(path);
  try {
    await file.validate();
  } finally {
    file.close();
  }
}

describe('Matrix Market text as real files write it', () => {
  it('comments, blank lines, CRLF line ends and a row written in any order', async () => {
    const text = '%%MatrixMarket matrix coordinate integer general\r\n% a comment\r\n\r\n3 4 5\r\n3 1 7\r\n1 1 2\r\n% between entries\r\n2 3 9\r\n1 4 -1\r\n3 4 4';
    const got = await readAll(folder('crlf', text), { maxEntries: 1 });
    expect(got.X).toEqual([
      [2, 0, 7],
      [0, 0, 0],
      [0, 9, 0],
      [-1, 0, 4],
    ]);
  });

  it('lines split across chunk boundaries (about 5 MB of text, read in 1 MB chunks) read the same as the numbers written', async () => {
    const nCells = 150_000;
    const lines = [`3 ${nCells} ${nCells * 3}`];
    for (let c = 1; c <= nCells; c++) for (let g = 1; g <= 3; g++) lines.push(`${g} ${c} ${(c * 7 + g) % 1000}`);
    const dir = folder('big', BANNER + lines.join('\n') + '\n', 3, nCells, true);
    const got = await readAll(dir, { maxEntries: 100_000 });
    expect(got.blocks).toBe(5);
    for (const c of [0, 1, 4095, 9999, 87_381, 87_382, nCells - 1]) expect(got.X[c]).toEqual([1, 2, 3].map((g) => ((c + 1) * 7 + g) % 1000));
  });

  it('a barcodes × genes matrix (the transpose) and real values', async () => {
    const text = '%%MatrixMarket matrix coordinate real general\n4 3 3\n1 2 0.25\n2 1 1e-3\n4 3 -2.5E2\n';
    const got = await readAll(folder('transposed', text));
    expect(got.X).toEqual([
      [0, 0.25, 0],
      [0.001, 0, 0],
      [0, 0, 0],
      [0, 0, -250],
    ]);
    const file = await openDataset(join(work, 'transposed'));
    expect(file.X!.dtype).toBe('float64');
    expect(file.notices[0]).toMatch(/barcodes × features \(the transpose/);
    file.close();
  });
});

describe('damaged Matrix Market files are refused with the place named', () => {
  const cases: [string, string, RegExp][] = [
    ['entries out of cell order', `${BANNER}3 4 3\n1 2 1\n1 1 1\n1 3 1\n`, /^matrix\.mtx: its entries are not grouped by barcode \(column 1 comes after column 2\)/],
    ['an entry twice', `${BANNER}3 4 3\n1 1 1\n2 1 1\n1 1 5\n`, /^matrix\.mtx: barcode 1 has two entries for feature 1\.$/],
    ['a row out of bounds', `${BANNER}3 4 1\n4 1 1\n`, /^matrix\.mtx line 3: row 4 is outside 1…3\.$/],
    ['a value that is not a number', `${BANNER}3 4 1\n1 1 x\n`, /^matrix\.mtx line 3: the value "x" is not a whole number\.$/],
    ['more entries than announced', `${BANNER}3 4 1\n1 1 1\n2 1 1\n`, /^matrix\.mtx line 4: more entries than the 1 the size line announces\.$/],
    ['a last line cut short', `${BANNER}3 4 2\n1 1 1\n2 2`, /^matrix\.mtx is truncated: its last line is incomplete, and it holds 1 of the 2 entries/],
    ['no size line', `${BANNER}% only a comment\n`, /^matrix\.mtx ends before its size line/],
    ['a symmetric matrix', '%%MatrixMarket matrix coordinate integer symmetric\n3 4 0\n', /^matrix\.mtx: a "symmetric" matrix is not read/],
    ['a dense array', '%%MatrixMarket matrix array integer general\n3 4\n', /^matrix\.mtx: only sparse \("matrix coordinate"\) Matrix Market files are read/],
    ['not Matrix Market', 'hello\n', /^matrix\.mtx is not a Matrix Market file/],
    ['a size that disagrees with the tables', `${BANNER}5 4 0\n`, /^matrix\.mtx is 5 × 4, but genes\.tsv lists 3 features and barcodes\.tsv 4 barcodes\.$/],
  ];
  it.each(cases)('%s', async (_what, text, message) => {
    const dir = folder(`bad-${_what.replace(/\W+/g, '-')}`, text);
    await expect(validate(dir)).rejects.toThrow(message);
  });

  it('a gzip stream cut short', async () => {
    const lines = [BANNER, '3 4 4\n', '1 1 1\n', '2 2 2\n', '3 3 3\n', '1 4 4\n'].join('').repeat(1);
    const dir = folder('gz-cut', lines, 3, 4, true);
    const whole = readFileSync(join(dir, 'matrix.mtx.gz'));
    writeFileSync(join(dir, 'matrix.mtx.gz'), whole.subarray(0, whole.length - 12));
    await expect(validate(dir)).rejects.toThrow(/^matrix\.mtx\.gz is truncated: its gzip stream ends early\.$/);
  });

  it('a barcodes file with an empty line', async () => {
    const dir = folder('empty-barcode', `${BANNER}3 4 0\n`);
    writeFileSync(join(dir, 'barcodes.tsv'), 'c0\n\nc2\nc3\n');
    await expect(validate(dir)).rejects.toThrow(/^barcodes\.tsv line 2 is empty; every line names one barcode\.$/);
  });
});

describe('loom names', () => {
  it.each(['loom3.loom', 'loom2.loom'])('%s: non-ASCII gene names read as text (loom 2 stored them as XML character references)', async (name) => {
    const file = await openDataset(join(FORMATS, name));
    try {
      const gene = file.var.columns.find((c) => c.name === 'Gene')!.column;
      expect(gene.kind === 'string' && gene.values[8]).toBe('Zellü');
      expect(gene.kind === 'string' && gene.values[4]).toBe('Gene1');
    } finally {
      file.close();
    }
  });

  it('without Accession or CellID: repeated Gene values get suffixes, cells are numbered, both with a notice', async () => {
    const file = await openDataset(join(FORMATS, 'loom_gene_only.loom'));
    try {
      expect([file.var.indexName, file.var.index]).toEqual(['Gene', ['A', 'B', 'A-1']]);
      expect([file.obs.indexName, file.obs.index]).toEqual(['_index', ['0', '1']]);
      expect(file.notices).toEqual([
        'loom_gene_only.loom: row_attrs/Gene repeats values (A); repeats get -1, -2, … suffixes.',
        'loom_gene_only.loom: col_attrs has none of CellID, obs_names; its cells are named by position (0, 1, …).',
      ]);
      expect(dense(await blocksOf(file.X!, {}), file.X!.shape)).toEqual([
        [0, 2, 4],
        [1, 3, 5],
      ]);
    } finally {
      file.close();
    }
  });
});

describe('Matrix Market files that share a prefix (as GEO serves them)', () => {
  it('the matrix file names its set; a folder with two sets asks which; the key is the prefix', async () => {
    const dir = join(work, 'geo');
    mkdirSync(dir);
    const source = join(FORMATS, 'mtx_v3');
    for (const name of ['matrix.mtx.gz', 'barcodes.tsv.gz', 'features.tsv.gz']) writeFileSync(join(dir, `GSM1_${name}`), readFileSync(join(source, name)));
    writeFileSync(join(dir, 'GSM2_matrix.mtx.gz'), readFileSync(join(source, 'matrix.mtx.gz')));
    await expect(openDataset(dir)).rejects.toThrow(/^The folder geo holds several matrices \(GSM1_matrix\.mtx\.gz, GSM2_matrix\.mtx\.gz\); name the one to read\.$/);
    await expect(openDataset(join(dir, 'GSM2_matrix.mtx.gz'))).rejects.toThrow(/^The folder geo has no GSM2_barcodes\.tsv or GSM2_barcodes\.tsv\.gz beside GSM2_matrix\.mtx\.gz/);
    const prefixed = await readAll(join(dir, 'GSM1_matrix.mtx.gz'));
    expect(prefixed).toEqual(await readAll(source));
    expect([datasetKey(join(dir, 'GSM1_matrix.mtx.gz')), datasetKey(source), datasetSuffix(source), datasetSuffix(join(FORMATS, 'tenx_v3.h5'))]).toEqual(['GSM1', 'mtx_v3', '.mtx', '.h5']);
    // The same three files under other names hash the same (md5-d over their contents).
    expect(await hashDataset(join(dir, 'GSM1_matrix.mtx.gz'))).toEqual(await hashDataset(source));
  });
});
