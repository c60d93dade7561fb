// Minimal .npy (NumPy format 1.0/2.0) reading and writing for 2-D little-endian float arrays:
// the B6 accuracy check exchanges PC scores with the Python peer this way.
import { readFileSync, writeFileSync } from 'node:fs';

const MAGIC = '\x93NUMPY';

export interface Matrix {
  rows: number;
  cols: number;
  /** Row-major values. */
  values: Float32Array | Float64Array;
}

export function readNpyMatrix(path: string): Matrix {
  const bytes = readFileSync(path);
  if (bytes.toString('latin1', 0, 6) !== MAGIC) throw new Error(`${path}: not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1] === 'True';
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!shape || shape.length !== 2) throw new Error(`${path}: expected a 2-D array, header ${header.trim()}`);
  const [rows, cols] = shape;
  const offset = headerStart + headerLength;
  const width = descr === '<f8' ? 8 : descr === '<f4' ? 4 : 0;
  if (!width) throw new Error(`${path}: unsupported dtype ${descr}`);
  // Copy so the typed array is aligned whatever the header length.
  const aligned = new Uint8Array(bytes.subarray(offset, offset + rows * cols * width)).buffer;
  const stored = width === 8 ? new Float64Array(aligned) : new Float32Array(aligned);
  if (!fortran) return { rows, cols, values: stored };
  const values = width === 8 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < rows; i++) values[i * cols + j] = stored[j * rows + i];
  }
  return { rows, cols, values };
}

export function writeNpyMatrix(path: string, matrix: Matrix): void {
  const descr = matrix.values instanceof Float64Array ? '<f8' : '<f4';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${matrix.rows}, ${matrix.cols}), }`;
  // Header (with magic, version and length) padded with spaces to a multiple of 64, ending in '\n'.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write(MAGIC, 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const body = Buffer.from(matrix.values.buffer, matrix.values.byteOffset, matrix.values.byteLength);
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]));
}

/** |Pearson correlation| of column `col` of two matrices with the same number of rows. */
export function absColumnCorrelation(a: Matrix, b: Matrix, col: number): number {
  if (a.rows !== b.rows) throw new Error(`row counts differ: ${a.rows} vs ${b.rows}`);
  const n = a.rows;
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < n; i++) {
    meanA += a.values[i * a.cols + col];
    meanB += b.values[i * b.cols + col];
  }
  meanA /= n;
  meanB /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a.values[i * a.cols + col] - meanA;
    const db = b.values[i * b.cols + col] - meanB;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? 0 : Math.abs(sab) / Math.sqrt(saa * sbb);
}
