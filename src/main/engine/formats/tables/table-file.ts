// Reading the small tables users bring: CSV/TSV (annotations, embeddings) and .npy
// arrays (embeddings). Errors name the file, line and column.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { CellarError } from '../../../../shared/errors';
import type { Column, NumericArray } from '../../columns/column-model';
import { MAX_CATEGORIES } from '../../columns/field-schema';

export interface TextTable {
  header: string[];
  rows: string[][];
}

/** RFC 4180 CSV (or TSV for .tsv/.tab or a tab in the header line), with quoted fields. */
export function parseDelimited(text: string, file: string): TextTable {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const firstLine = body.slice(0, body.indexOf('\n') === -1 ? undefined : body.indexOf('\n'));
  const ext = extname(file).toLowerCase();
  const sep = ext === '.tsv' || ext === '.tab' || (ext !== '.csv' && firstLine.includes('\t')) ? '\t' : ',';
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let line = 1;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (quoted) {
      if (ch === '"') {
        if (body[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === sep) {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && body[i + 1] === '\n') i++;
      record.push(field);
      field = '';
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
      line++;
    } else field += ch;
  }
  if (quoted) throw new CellarError('bad_element', `${basename(file)}: a quoted field is not closed (line ${line}).`);
  if (field !== '' || record.length) {
    record.push(field);
    records.push(record);
  }
  if (!records.length) throw new CellarError('bad_element', `${basename(file)} is empty.`);
  const [header, ...rows] = records as [string[], ...string[][]];
  rows.forEach((r, i) => {
    if (r.length !== header.length) throw new CellarError('bad_element', `${basename(file)}: line ${i + 2} has ${r.length} fields, the header has ${header.length}.`);
  });
  return { header: header.map((h) => h.trim()), rows };
}

const NA = new Set(['', 'NA', 'NaN', 'nan', 'null', 'None', '<NA>']);

/** Infers a column from text values: bool, integer, float or (categorical) strings; NA for missing. */
export function inferColumn(values: (string | null)[]): Column {
  const present = values.filter((v): v is string => v !== null && !NA.has(v.trim()));
  const n = values.length;
  const missing = (i: number) => values[i] === null || NA.has(values[i]!.trim());
  const anyMissing = present.length < n;
  if (present.length && present.every((v) => /^(true|false)$/i.test(v.trim()))) {
    const vals = Uint8Array.from(values, (v) => (v && /^true$/i.test(v.trim()) ? 1 : 0));
    if (!anyMissing) return { kind: 'bool', values: vals };
    return { kind: 'nullable-bool', values: vals, mask: Uint8Array.from({ length: n }, (_, i) => (missing(i) ? 1 : 0)) };
  }
  if (present.length && present.every((v) => /^[+-]?\d+$/.test(v.trim()) && Math.abs(Number(v)) <= Number.MAX_SAFE_INTEGER)) {
    const vals = new BigInt64Array(n);
    values.forEach((v, i) => {
      if (!missing(i)) vals[i] = BigInt(v!.trim());
    });
    if (!anyMissing) return { kind: 'numeric', dtype: 'int64', values: vals };
    return { kind: 'nullable-int', dtype: 'int64', values: vals, mask: Uint8Array.from({ length: n }, (_, i) => (missing(i) ? 1 : 0)) };
  }
  if (present.length && present.every((v) => v.trim() !== '' && Number.isFinite(Number(v)) || /^[+-]?inf(inity)?$/i.test(v.trim()))) {
    return { kind: 'numeric', dtype: 'float64', values: Float64Array.from(values, (v, i) => (missing(i) ? NaN : /inf/i.test(v!) ? (v!.trim().startsWith('-') ? -Infinity : Infinity) : Number(v))) };
  }
  const distinct = [...new Set(present)];
  if (distinct.length <= MAX_CATEGORIES) {
    const code = new Map(distinct.map((v, i) => [v, i]));
    return { kind: 'category', codes: Int32Array.from(values, (v, i) => (missing(i) ? -1 : code.get(v!)!)), categories: { kind: 'string', values: distinct }, ordered: false };
  }
  return { kind: 'string', values: values.map((v, i) => (missing(i) ? null : v)) };
}

export interface DenseMatrix {
  shape: [number, number];
  values: Float32Array | Float64Array;
  /** Row ids when the file has them (a first column named obs_id, or a text first column). */
  rowIds: string[] | null;
}

/** A numeric n × k matrix from .npy (little-endian f4/f8/i*, C order) or CSV/TSV. */
export function readDenseMatrix(path: string): DenseMatrix {
  const name = basename(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CellarError('not_found', `${path} cannot be read: ${(err as Error).message}.`);
  }
  if (extname(path).toLowerCase() === '.npy') return readNpy(bytes, name);
  const table = parseDelimited(bytes.toString('utf8'), path);
  const numeric = (s: string) => s.trim() !== '' && Number.isFinite(Number(s));
  // A header is present when the first line is not all numbers.
  let header: string[] | null = table.header;
  let rows = table.rows;
  if (table.header.every(numeric)) {
    rows = [table.header, ...rows];
    header = null;
  }
  const idFirst = (header !== null && /^(obs_id|index|cell|barcode|)$/i.test(header[0]!)) || (rows.length > 0 && !numeric(rows[0]![0]!));
  const k = (rows[0]?.length ?? 0) - (idFirst ? 1 : 0);
  if (k <= 0) throw new CellarError('bad_element', `${name} has no numeric columns.`);
  const values = new Float64Array(rows.length * k);
  rows.forEach((r, i) => {
    for (let j = 0; j < k; j++) {
      const s = r[j + (idFirst ? 1 : 0)]!;
      const v = Number(s);
      if (s.trim() === '' || Number.isNaN(v)) throw new CellarError('bad_element', `${name}: line ${i + (header ? 2 : 1)}, column ${j + 1 + (idFirst ? 1 : 0)} is not a number ("${s}").`);
      values[i * k + j] = v;
    }
  });
  return { shape: [rows.length, k], values, rowIds: idFirst ? rows.map((r) => r[0]!) : null };
}

function readNpy(bytes: Buffer, name: string): DenseMatrix {
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw new CellarError('bad_element', `${name} is not a .npy file.`);
  const major = bytes[6]!;
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = bytes.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new CellarError('bad_element', `${name}: the .npy header cannot be read.`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (dims.length !== 2) throw new CellarError('bad_element', `${name} holds a ${dims.length}-d array; an embedding must be 2-d (cells × components).`);
  if (fortran) throw new CellarError('bad_element', `${name} is in Fortran order; save it with numpy.ascontiguousarray first.`);
  const [n, k] = dims as [number, number];
  const kinds: Record<string, new (b: ArrayBuffer, o: number, l: number) => NumericArray> = {
    '<f4': Float32Array, '<f8': Float64Array, '<i4': Int32Array, '<i8': BigInt64Array, '<i2': Int16Array, '|i1': Int8Array, '|u1': Uint8Array, '<u2': Uint16Array, '<u4': Uint32Array,
  };
  const Ctor = kinds[descr];
  if (!Ctor) throw new CellarError('bad_element', `${name} has dtype ${descr}; use float32 or float64.`);
  const count = n * k;
  const bpe = (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  if (bytes.length < start + count * bpe) throw new CellarError('bad_element', `${name} is truncated: its header promises ${n} × ${k} values.`);
  const copy = Uint8Array.from(bytes.subarray(start, start + count * bpe)).buffer;
  const raw = new Ctor(copy, 0, count);
  const values = raw instanceof Float32Array || raw instanceof Float64Array ? raw : Float64Array.from(raw as ArrayLike<number | bigint>, Number);
  return { shape: [n, k], values, rowIds: null };
}
