// A streaming Matrix Market ("coordinate") parser: the banner, comments and size line are
// read as text; entries are parsed straight from the bytes into typed batches, so a
// file of any size goes through in bounded memory.
import { basename } from 'node:path';
import { CellarError } from '../../../../shared/errors';
import { byteChunks } from './text';

export type MtxField = 'integer' | 'real' | 'pattern';

export interface MtxHeader {
  field: MtxField;
  nRows: number;
  nCols: number;
  nnz: number;
}

/** One batch of entries, 0-based; the arrays are reused for the next batch. */
export interface MtxBatch {
  n: number;
  rows: Int32Array;
  cols: Int32Array;
  values: Float64Array;
}

const BATCH = 1 << 16;
const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const PERCENT = 37;

/** Parses `%%MatrixMarket matrix coordinate <field> general` and the size line; refuses what 10x data never is. */
function parseBanner(label: string, line: string): MtxField {
  const words = line.trim().toLowerCase().split(/\s+/);
  if (words[0] !== '%%matrixmarket') throw new CellarError('bad_element', `${label} is not a Matrix Market file: its first line should start with %%MatrixMarket.`);
  const [, object, format, field, symmetry] = words;
  if (object !== 'matrix' || format !== 'coordinate') throw new CellarError('bad_element', `${label}: only sparse ("matrix coordinate") Matrix Market files are read, this one is "${object} ${format}".`);
  if (field !== 'integer' && field !== 'real' && field !== 'pattern') throw new CellarError('bad_element', `${label}: values of type "${field}" are not read (integer, real or pattern).`);
  if (symmetry !== 'general') throw new CellarError('bad_element', `${label}: a "${symmetry}" matrix is not read; a cells × genes matrix is "general".`);
  return field;
}

function parseSize(label: string, line: string, lineNo: number): Omit<MtxHeader, 'field'> {
  const parts = line.trim().split(/\s+/).map(Number);
  if (parts.length !== 3 || parts.some((v) => !Number.isSafeInteger(v) || v < 0)) throw new CellarError('bad_element', `${label} line ${lineNo}: expected the size line "rows columns entries", found "${line.trim().slice(0, 60)}".`);
  return { nRows: parts[0]!, nCols: parts[1]!, nnz: parts[2]! };
}

/**
 * Streams a Matrix Market file: `onHeader` once, then batches of entries, checked for
 * their bounds and their count. With `headerOnly` it stops after the size line.
 */
export async function* readMatrixMarket(path: string, options: { signal?: AbortSignal; headerOnly?: boolean; onHeader?: (h: MtxHeader) => void } = {}): AsyncGenerator<MtxBatch> {
  const label = basename(path);
  let lineNo = 0;
  let header: MtxHeader | null = null;
  let field: MtxField | null = null;
  let seen = 0;
  let carry: Buffer | null = null;
  const batch: MtxBatch = { n: 0, rows: new Int32Array(BATCH), cols: new Int32Array(BATCH), values: new Float64Array(BATCH) };

  const fail = (reason: string): CellarError => new CellarError('bad_element', `${label} line ${lineNo}: ${reason}`);

  /** Reads the entry on bytes [start, end) into the batch. */
  const entry = (buf: Buffer, start: number, end: number): void => {
    const h = header!;
    let p = start;
    const next = (what: string, isValue: boolean): number => {
      while (p < end && (buf[p] === SPACE || buf[p] === TAB)) p++;
      if (p >= end) throw fail(`expected "row column${h.field === 'pattern' ? '' : ' value'}", the ${what} is missing.`);
      const from = p;
      if (!isValue || h.field === 'integer') {
        let sign = 1;
        if (isValue && (buf[p] === 45 || buf[p] === 43)) sign = buf[p++] === 45 ? -1 : 1;
        let v = 0;
        const digitsFrom = p;
        while (p < end && buf[p]! >= 48 && buf[p]! <= 57) v = v * 10 + (buf[p++]! - 48);
        if (p === digitsFrom || (p < end && buf[p] !== SPACE && buf[p] !== TAB)) throw fail(`the ${what} "${buf.toString('latin1', from, Math.min(end, from + 30))}" is not a whole number.`);
        return sign * v;
      }
      while (p < end && buf[p] !== SPACE && buf[p] !== TAB) p++;
      const v = Number(buf.toString('latin1', from, p));
      if (Number.isNaN(v) && buf.toString('latin1', from, p).toLowerCase() !== 'nan') throw fail(`the ${what} "${buf.toString('latin1', from, p)}" is not a number.`);
      return v;
    };
    const row = next('row', false);
    const col = next('column', false);
    const value = h.field === 'pattern' ? 1 : next('value', true);
    if (row < 1 || row > h.nRows) throw fail(`row ${row} is outside 1…${h.nRows}.`);
    if (col < 1 || col > h.nCols) throw fail(`column ${col} is outside 1…${h.nCols}.`);
    if (++seen > h.nnz) throw fail(`more entries than the ${h.nnz} the size line announces.`);
    const i = batch.n++;
    batch.rows[i] = row - 1;
    batch.cols[i] = col - 1;
    batch.values[i] = value;
  };

  /**
   * The common line, "row col count" in plain digits with single spaces, without a closure per
   * token; anything else (signs, reals, bad input) returns false and goes through `entry`,
   * which also words the errors.
   */
  const fastEntry = (buf: Buffer, start: number, end: number): boolean => {
    const h = header!;
    if (h.field === 'real') return false;
    let p = start;
    let row = 0;
    let c = buf[p]!;
    if (c < 48 || c > 57) return false;
    while (c >= 48 && c <= 57) {
      row = row * 10 + c - 48;
      c = ++p < end ? buf[p]! : 0;
    }
    if (c !== SPACE) return false;
    c = ++p < end ? buf[p]! : 0;
    if (c < 48 || c > 57) return false;
    let col = 0;
    while (c >= 48 && c <= 57) {
      col = col * 10 + c - 48;
      c = ++p < end ? buf[p]! : 0;
    }
    let value = 1;
    if (h.field === 'integer') {
      if (c !== SPACE) return false;
      c = ++p < end ? buf[p]! : 0;
      if (c < 48 || c > 57) return false;
      value = 0;
      while (c >= 48 && c <= 57) {
        value = value * 10 + c - 48;
        c = ++p < end ? buf[p]! : 0;
      }
    }
    if (p !== end || row < 1 || row > h.nRows || col < 1 || col > h.nCols || seen >= h.nnz || value > Number.MAX_SAFE_INTEGER) return false;
    seen++;
    const i = batch.n++;
    batch.rows[i] = row - 1;
    batch.cols[i] = col - 1;
    batch.values[i] = value;
    return true;
  };

  /** One line on bytes [start, end) (no line end). */
  const line = (buf: Buffer, start: number, end: number): void => {
    lineNo++;
    if (end > start && buf[end - 1] === CR) end--;
    if (header) {
      let p = start;
      while (p < end && (buf[p] === SPACE || buf[p] === TAB)) p++;
      if (p === end || buf[p] === PERCENT) return; // blank lines and comments may sit anywhere
      if (!fastEntry(buf, p, end)) entry(buf, p, end);
      return;
    }
    const text = buf.toString('utf8', start, end);
    if (lineNo === 1) {
      field = parseBanner(label, text);
      return;
    }
    if (text.trim() === '' || text.startsWith('%')) return;
    header = { field: field!, ...parseSize(label, text, lineNo) };
    options.onHeader?.(header);
  };

  for await (const chunk of byteChunks(path, options.signal)) {
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(NL, start); nl !== -1; nl = buf.indexOf(NL, start)) {
      line(buf, start, nl);
      start = nl + 1;
      if (header && options.headerOnly) return;
      if (batch.n === BATCH) {
        yield batch;
        batch.n = 0;
      }
    }
    carry = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
  }
  if (carry) {
    try {
      line(carry, 0, carry.length);
    } catch (err) {
      // A last line without its line end that does not parse is where the file was cut.
      if (header && seen < (header as MtxHeader).nnz) throw new CellarError('bad_element', `${label} is truncated: its last line is incomplete, and it holds ${seen} of the ${(header as MtxHeader).nnz} entries its size line announces.`);
      throw err;
    }
  }
  if (lineNo === 0) throw new CellarError('bad_element', `${label} is empty.`);
  if (!header) throw new CellarError('bad_element', `${label} ends before its size line ("rows columns entries").`);
  const h = header as MtxHeader;
  if (seen < h.nnz) throw new CellarError('bad_element', `${label} is truncated: it holds ${seen} of the ${h.nnz} entries its size line announces.`);
  if (batch.n) yield batch;
}

/** Just the banner and size line. */
export async function readMatrixMarketHeader(path: string, signal?: AbortSignal): Promise<MtxHeader> {
  let header: MtxHeader | null = null;
  for await (const _ of readMatrixMarket(path, { signal, headerOnly: true, onHeader: (h) => (header = h) })) void _;
  if (!header) throw new CellarError('bad_element', `${basename(path)} ends before its size line ("rows columns entries").`);
  return header;
}
