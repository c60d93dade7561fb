// Evaluates a parsed value filter over in-memory columns, producing a row mask.
//
// Missing values follow SQL three-valued logic: any comparison with a missing value
// (NA mask, category code −1, float NaN, null string) is UNKNOWN, `not UNKNOWN` is UNKNOWN,
// and only TRUE rows are selected. So `x != 1`, `x not in [..]` and `not (x == 1)` all
// leave missing rows out; `isna(x)` / `notna(x)` are the way to select or drop them.
// As in SQL, unknown AND false is false (and unknown OR true is true), so a row with x
// missing and y == 3 does satisfy `not (x == 1 and y == 2)`.
//
// Values compare as the column's type: categoricals by category value (evaluated once per
// category, then mapped through the codes), strings by Unicode code point, int64/uint64
// exactly, float32 columns against the literal rounded to float32 (as numpy and tiledbsoma
// do), integer columns against fractional literals exactly (`n < 2.5` is `n <= 2`).

import type { Column, NumericArray, NumericDtype } from '../../columns/column-model';
import { CellarError } from '../../../../shared/errors';
import { columnLength } from '../../columns/field-schema';
import { pointedFilterError, type ColumnRef, type CompareOp, type FilterAst, type FilterLiteral, type FilterNode } from './filter-parse';

export interface FilterTable {
  nRows: number;
  column(name: string): Column | undefined;
  columnNames: string[];
}

// Three-valued truth in two bits: bit 0 = true, bit 1 = false, neither = unknown.
// AND/OR/NOT then become branch-free bit operations over whole arrays.
const TRUE = 1;
const FALSE = 2;
const UNKNOWN = 0;
const TRUE_BYTES = 0x01010101;
const FALSE_BYTES = 0x02020202;

/** A truth array whose buffer is whole 32-bit words, so combining runs four rows per step. */
function newTruth(n: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer((n + 3) & ~3), 0, n);
}

function truthWords(truth: Uint8Array): Uint32Array {
  return new Uint32Array(truth.buffer, 0, truth.buffer.byteLength >> 2);
}

// The bit formulas never carry across bytes, so they work on packed words unchanged.
function combine(acc: Uint8Array, next: Uint8Array, type: 'and' | 'or'): void {
  const a = truthWords(acc);
  const b = truthWords(next);
  if (type === 'and') for (let k = 0; k < a.length; k++) a[k] = (a[k]! & b[k]! & TRUE_BYTES) | ((a[k]! | b[k]!) & FALSE_BYTES);
  else for (let k = 0; k < a.length; k++) a[k] = ((a[k]! | b[k]!) & TRUE_BYTES) | (a[k]! & b[k]! & FALSE_BYTES);
}

/** Swaps the true and false bits; UNKNOWN (00) stays unknown. */
function negate(truth: Uint8Array): void {
  const w = truthWords(truth);
  for (let k = 0; k < w.length; k++) w[k] = ((w[k]! & TRUE_BYTES) << 1) | ((w[k]! & FALSE_BYTES) >>> 1);
}

/** What a leaf needs to build a user-facing error. */
interface LeafContext {
  source: string;
  ref: ColumnRef;
}

/** Evaluates `ast` over `table`; returns one byte per row, 1 = selected. */
export function evaluateFilter(ast: FilterAst, table: FilterTable): Uint8Array {
  const columns = resolveColumns(ast, table);
  const truth = evaluateNode(ast.root, ast.source, columns, table.nRows);
  const words = truthWords(truth);
  for (let k = 0; k < words.length; k++) words[k] = words[k]! & TRUE_BYTES;
  return truth;
}

/** Row indices where the mask is set (any non-zero byte), ascending. */
export function selectedRows(mask: Uint8Array): Uint32Array {
  // Whole zero words are skipped four rows at a time, which is most of a selective mask.
  const n = mask.length;
  const aligned = mask.byteOffset % 4 === 0;
  const nWords = aligned ? n >> 2 : 0;
  const words = aligned ? new Uint32Array(mask.buffer, mask.byteOffset, nWords) : new Uint32Array(0);
  let count = 0;
  for (let k = 0; k < nWords; k++) {
    if (words[k] === 0) continue;
    const at = k << 2;
    count += (mask[at] !== 0 ? 1 : 0) + (mask[at + 1] !== 0 ? 1 : 0) + (mask[at + 2] !== 0 ? 1 : 0) + (mask[at + 3] !== 0 ? 1 : 0);
  }
  for (let i = nWords << 2; i < n; i++) if (mask[i] !== 0) count++;

  const rows = new Uint32Array(count);
  let next = 0;
  for (let k = 0; k < nWords; k++) {
    if (words[k] === 0) continue;
    for (let i = k << 2, end = i + 4; i < end; i++) if (mask[i] !== 0) rows[next++] = i;
  }
  for (let i = nWords << 2; i < n; i++) if (mask[i] !== 0) rows[next++] = i;
  return rows;
}

function resolveColumns(ast: FilterAst, table: FilterTable): Map<string, Column> {
  const columns = new Map<string, Column>();
  const visit = (node: FilterNode): void => {
    if (node.type === 'and' || node.type === 'or') return node.operands.forEach(visit);
    if (node.type === 'not') return visit(node.operand);
    const { name, position } = node.column;
    if (columns.has(name)) return;
    const column = table.column(name) ?? (name === SOMA_JOINID ? joinidColumn(table.nRows) : undefined);
    // The kind check also guards lookups backed by plain objects ("constructor", "toString").
    if (!column || !COLUMN_KINDS.has(column.kind)) throw unknownColumnError(name, position, ast.source, table.columnNames);
    const length = columnLength(column);
    if (length !== table.nRows) {
      throw new CellarError('shape_mismatch', `Column "${name}" has ${length} values but the table has ${table.nRows} rows.`);
    }
    columns.set(name, column);
  };
  visit(ast.root);
  return columns;
}

/** Stores keep a row's joinid as its position, not as a column; filters may still name it (selected cells). */
const SOMA_JOINID = 'soma_joinid';

function joinidColumn(nRows: number): Column {
  const values = new Uint32Array(nRows);
  for (let i = 0; i < nRows; i++) values[i] = i;
  return { kind: 'numeric', dtype: 'uint32', values };
}

const COLUMN_KINDS = new Set<string>(['numeric', 'bool', 'string', 'nullable-int', 'nullable-bool', 'nullable-string', 'category']);

function unknownColumnError(name: string, position: number, source: string, available: string[]): CellarError {
  const closest = closestName(name, available);
  const hint = closest ? ` (did you mean "${closest}"?)` : '';
  const maxListed = 30;
  const listed = available.slice(0, maxListed).join(', ') + (available.length > maxListed ? `, … and ${available.length - maxListed} more` : '');
  return pointedFilterError('unknown_column', `Unknown column "${name}" in filter${hint}; available: ${listed || '(none)'}.`, source, position);
}

function closestName(name: string, candidates: string[]): string | null {
  const normalize = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
  const target = name.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = normalize(candidate) === normalize(name) ? 0 : editDistance(target, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function evaluateNode(node: FilterNode, source: string, columns: Map<string, Column>, nRows: number): Uint8Array {
  switch (node.type) {
    case 'and':
    case 'or': {
      const acc = evaluateNode(node.operands[0]!, source, columns, nRows);
      for (let k = 1; k < node.operands.length; k++) {
        const next = evaluateNode(node.operands[k]!, source, columns, nRows);
        combine(acc, next, node.type);
      }
      return acc;
    }
    case 'not': {
      const value = evaluateNode(node.operand, source, columns, nRows);
      negate(value);
      return value;
    }
    case 'isna': {
      const column = columns.get(node.column.name)!;
      const missing = missingFlags(column);
      const [ifMissing, ifPresent] = node.negated ? [FALSE, TRUE] : [TRUE, FALSE];
      const out = newTruth(nRows).fill(ifPresent);
      if (missing) for (let i = 0; i < nRows; i++) if (missing[i]) out[i] = ifMissing;
      return out;
    }
    case 'truthy': {
      const column = columns.get(node.column.name)!;
      if (!isBoolLike(column)) {
        throw pointedFilterError(
          'bad_filter',
          `Column "${node.column.name}" holds ${describeHolds(column)}, not true/false values, so it cannot stand alone as a condition; compare it with a value, e.g. ${node.column.name} == ...`,
          source,
          node.column.position,
        );
      }
      const literal: FilterLiteral = { type: 'bool', value: true, position: node.column.position };
      return compareColumn(column, '==', literal, { source, ref: node.column });
    }
    case 'compare':
      return compareColumn(columns.get(node.column.name)!, node.op, node.value, { source, ref: node.column });
    case 'in':
      return memberOfColumn(columns.get(node.column.name)!, node.values, node.negated, { source, ref: node.column });
  }
}

function isBoolLike(column: Column): boolean {
  return column.kind === 'bool' || column.kind === 'nullable-bool' || (column.kind === 'category' && isBoolLike(column.categories));
}

// ---- missing values ----

/** 1 where the value is missing, or null when the column cannot hold missing values. */
function missingFlags(column: Column): Uint8Array | null {
  switch (column.kind) {
    case 'numeric': {
      if (column.dtype !== 'float32' && column.dtype !== 'float64') return null;
      const values = column.values as Float32Array | Float64Array;
      const out = new Uint8Array(values.length);
      for (let i = 0; i < values.length; i++) if (values[i] !== values[i]) out[i] = 1;
      return out;
    }
    case 'string': {
      const out = new Uint8Array(column.values.length);
      for (let i = 0; i < column.values.length; i++) if (column.values[i] === null) out[i] = 1;
      return out;
    }
    case 'bool':
      return null;
    case 'nullable-int':
    case 'nullable-bool':
    case 'nullable-string':
      return column.mask;
    case 'category': {
      const nCategories = columnLength(column.categories);
      const categoryMissing = missingFlags(column.categories);
      const codes = column.codes;
      const out = new Uint8Array(codes.length);
      for (let i = 0; i < codes.length; i++) {
        const code = codes[i]!;
        if (code < 0 || code >= nCategories || (categoryMissing !== null && categoryMissing[code])) out[i] = 1;
      }
      return out;
    }
  }
}

function applyMask(truth: Uint8Array, mask: Uint8Array): Uint8Array {
  for (let i = 0; i < truth.length; i++) if (mask[i]) truth[i] = UNKNOWN;
  return truth;
}

// ---- type checks and literal conversion ----

function describeHolds(column: Column): string {
  switch (column.kind) {
    case 'numeric':
    case 'nullable-int':
      return `${column.dtype} numbers`;
    case 'bool':
    case 'nullable-bool':
      return 'true/false values';
    case 'string':
    case 'nullable-string':
      return 'text';
    case 'category':
      return `categories of ${describeHolds(column.categories)}`;
  }
}

function describeLiteral(literal: FilterLiteral): string {
  if (literal.type === 'string') return `the string ${JSON.stringify(literal.value)}`;
  if (literal.type === 'bool') return `the value ${literal.value ? 'True' : 'False'}`;
  return `the number ${literal.exactInteger ?? literal.value}`;
}

function typeMismatch(column: Column, literal: FilterLiteral, context: LeafContext, topColumn: Column): CellarError {
  let hint = '';
  if (literal.type === 'string' && (column.kind === 'bool' || column.kind === 'nullable-bool')) hint = '; use True or False without quotes';
  else if (literal.type === 'string' && literal.value.trim() !== '' && !Number.isNaN(Number(literal.value))) hint = '; remove the quotes to compare numbers';
  else if (literal.type !== 'string') hint = `; quote the value ("${literal.type === 'bool' ? (literal.value ? 'True' : 'False') : (literal.exactInteger ?? literal.value)}") to compare it as text`;
  return pointedFilterError(
    'bad_filter',
    `Column "${context.ref.name}" holds ${describeHolds(topColumn)}, so it cannot be compared with ${describeLiteral(literal)}${hint}.`,
    context.source,
    literal.position,
  );
}

/** A literal as a number for numeric/bool columns (True/False count as 1/0). */
function numericLiteral(literal: FilterLiteral, column: Column, context: LeafContext, topColumn: Column): { value: number; exact: bigint | null } {
  if (literal.type === 'string') throw typeMismatch(column, literal, context, topColumn);
  if (literal.type === 'bool') return { value: literal.value ? 1 : 0, exact: literal.value ? 1n : 0n };
  return { value: literal.value, exact: literal.exactInteger };
}

function stringLiteral(literal: FilterLiteral, column: Column, context: LeafContext, topColumn: Column): string {
  if (literal.type !== 'string') throw typeMismatch(column, literal, context, topColumn);
  return literal.value;
}

// ---- comparisons ----

function compareColumn(column: Column, op: CompareOp, literal: FilterLiteral, context: LeafContext, topColumn: Column = column): Uint8Array {
  switch (column.kind) {
    case 'numeric':
      return compareNumeric(column.values, column.dtype, op, numericLiteral(literal, column, context, topColumn));
    case 'nullable-int':
      return applyMask(compareNumeric(column.values, column.dtype, op, numericLiteral(literal, column, context, topColumn)), column.mask);
    case 'bool':
      return compareNumeric(column.values, 'uint8', op, numericLiteral(literal, column, context, topColumn));
    case 'nullable-bool':
      return applyMask(compareNumeric(column.values, 'uint8', op, numericLiteral(literal, column, context, topColumn)), column.mask);
    case 'string':
      return compareStrings(column.values, op, stringLiteral(literal, column, context, topColumn));
    case 'nullable-string':
      return applyMask(compareStrings(column.values, op, stringLiteral(literal, column, context, topColumn)), column.mask);
    case 'category': {
      const perCategory = compareColumn(column.categories, op, literal, context, topColumn);
      return mapCodes(column.codes, perCategory);
    }
  }
}

/** Spreads per-category truth over rows; code −1 (or out of range) is UNKNOWN. */
function mapCodes(codes: Int32Array, perCategory: Uint8Array): Uint8Array {
  // Shift by one so code −1 lands on slot 0 (UNKNOWN) without a branch.
  const lookup = new Uint8Array(perCategory.length + 1);
  lookup.set(perCategory, 1);
  const out = newTruth(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = lookup[codes[i]! + 1] ?? UNKNOWN;
  return out;
}

function compareNumeric(values: NumericArray, dtype: NumericDtype | 'uint8', op: CompareOp, literal: { value: number; exact: bigint | null }): Uint8Array {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return compareInt64(values, op, literal);
  // numpy and tiledbsoma compare float32 columns in float32, so `x == 0.1` finds stored 0.1f.
  const v = dtype === 'float32' ? Math.fround(literal.value) : literal.value;
  return compareNumbers(values, op, v);
}

type NumberArray = Exclude<NumericArray, BigInt64Array | BigUint64Array>;

// Loops that index many typed-array types go megamorphic in V8 (several times slower), so
// non-float64 columns are widened into one reused Float64Array chunk by the native `set`.
const CHUNK = 4096;
const chunkScratch = new Float64Array(CHUNK);

function forEachFloat64Chunk(values: NumberArray, visit: (chunk: Float64Array, start: number, length: number) => void): void {
  if (values instanceof Float64Array) return visit(values, 0, values.length);
  for (let start = 0; start < values.length; start += CHUNK) {
    const end = Math.min(values.length, start + CHUNK);
    chunkScratch.set(values.subarray(start, end));
    visit(chunkScratch, start, end - start);
  }
}

function compareNumbers(values: NumberArray, op: CompareOp, v: number): Uint8Array {
  const out = newTruth(values.length);
  forEachFloat64Chunk(values, (chunk, start, length) => compareChunk(chunk, length, op, v, out, start));
  return out;
}

// One loop per operator keeps the switch out of the inner loop, and each loop is branch-free
// (TRUE = 1, FALSE = 2, UNKNOWN = 0 built from two comparisons): on unsorted data a branch per
// row mispredicts half the time. A NaN row fails both `x < v` and `x >= v`, so it comes out
// UNKNOWN without a separate pass.
function compareChunk(x: Float64Array, n: number, op: CompareOp, v: number, out: Uint8Array, at: number): void {
  switch (op) {
    case '==':
      for (let i = 0; i < n; i++) {
        const xi = x[i]!;
        out[at + i] = +(xi === v) | ((+(xi !== v) & +(xi === xi)) << 1);
      }
      break;
    case '!=':
      for (let i = 0; i < n; i++) {
        const xi = x[i]!;
        out[at + i] = (+(xi !== v) & +(xi === xi)) | (+(xi === v) << 1);
      }
      break;
    case '<':
      for (let i = 0; i < n; i++) out[at + i] = +(x[i]! < v) | (+(x[i]! >= v) << 1);
      break;
    case '<=':
      for (let i = 0; i < n; i++) out[at + i] = +(x[i]! <= v) | (+(x[i]! > v) << 1);
      break;
    case '>':
      for (let i = 0; i < n; i++) out[at + i] = +(x[i]! > v) | (+(x[i]! <= v) << 1);
      break;
    case '>=':
      for (let i = 0; i < n; i++) out[at + i] = +(x[i]! >= v) | (+(x[i]! < v) << 1);
      break;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** The closed integer range [lo, hi] that `x op literal` selects, and whether to invert it. */
function integerRange(op: CompareOp, literal: { value: number; exact: bigint | null }): { lo: bigint | null; hi: bigint | null; invert: boolean } {
  const { value, exact } = literal;
  if (exact === null && !Number.isFinite(value)) {
    // ±Infinity: every integer is below +inf and above −inf.
    const below = value > 0;
    const all = { lo: null, hi: null, invert: false };
    const none = { lo: null, hi: null, invert: true };
    if (op === '==') return none;
    if (op === '!=') return all;
    return (op === '<' || op === '<=') === below ? all : none;
  }
  const floor = exact ?? BigInt(Math.floor(value));
  const ceil = exact ?? BigInt(Math.ceil(value));
  switch (op) {
    case '==':
      return floor === ceil ? { lo: floor, hi: floor, invert: false } : { lo: null, hi: null, invert: true };
    case '!=':
      return floor === ceil ? { lo: floor, hi: floor, invert: true } : { lo: null, hi: null, invert: false };
    case '<':
      return { lo: null, hi: ceil - 1n, invert: false };
    case '<=':
      return { lo: null, hi: floor, invert: false };
    case '>':
      return { lo: floor + 1n, hi: null, invert: false };
    case '>=':
      return { lo: ceil, hi: null, invert: false };
  }
}

// 64-bit columns compare through their 32-bit halves so rows never become BigInts.
function compareInt64(values: BigInt64Array | BigUint64Array, op: CompareOp, literal: { value: number; exact: bigint | null }): Uint8Array {
  const signed = values instanceof BigInt64Array;
  const [min, max] = signed ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
  const range = integerRange(op, literal);
  const lo = range.lo === null || range.lo < min ? min : range.lo;
  const hi = range.hi === null || range.hi > max ? max : range.hi;
  const [inside, outside] = range.invert ? [FALSE, TRUE] : [TRUE, FALSE];
  const n = values.length;
  const out = newTruth(n);
  if (lo > hi) return out.fill(outside);
  if (lo === min && hi === max) return out.fill(inside);

  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) out[i] = values[i]! >= lo && values[i]! <= hi ? inside : outside;
    return out;
  }
  // Offsetting signed values by 2^63 makes unsigned word order match numeric order.
  const offset = signed ? 2n ** 63n : 0n;
  const loKey = lo + offset;
  const hiKey = hi + offset;
  const loHigh = Number(loKey >> 32n);
  const loLow = Number(loKey & 0xffffffffn);
  const hiHigh = Number(hiKey >> 32n);
  const hiLow = Number(hiKey & 0xffffffffn);
  const flip = signed ? 0x80000000 : 0;
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  for (let i = 0; i < n; i++) {
    const high = (words[2 * i + 1]! ^ flip) >>> 0;
    const low = words[2 * i]!;
    const aboveLo = high > loHigh || (high === loHigh && low >= loLow);
    const belowHi = high < hiHigh || (high === hiHigh && low <= hiLow);
    out[i] = aboveLo && belowHi ? inside : outside;
  }
  return out;
}

/** Orders strings by Unicode code point (as Python, numpy and Arrow do), not by UTF-16 unit. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca !== cb) {
      // Surrogates encode code points above U+FFFF, so they sort after every BMP unit.
      if (ca >= 0xd800 && ca <= 0xdfff) ca += 0x10000;
      if (cb >= 0xd800 && cb <= 0xdfff) cb += 0x10000;
      return ca - cb;
    }
  }
  return a.length - b.length;
}

function compareStrings(values: (string | null)[], op: CompareOp, v: string): Uint8Array {
  const n = values.length;
  const out = newTruth(n);
  if (op === '==' || op === '!=') {
    const [equal, different] = op === '==' ? [TRUE, FALSE] : [FALSE, TRUE];
    for (let i = 0; i < n; i++) {
      const x = values[i];
      out[i] = x === null || x === undefined ? UNKNOWN : x === v ? equal : different;
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const x = values[i];
    if (x === null || x === undefined) continue;
    const order = compareCodePoints(x, v);
    const pass = op === '<' ? order < 0 : op === '<=' ? order <= 0 : op === '>' ? order > 0 : order >= 0;
    out[i] = pass ? TRUE : FALSE;
  }
  return out;
}

// ---- membership ----

function memberOfColumn(column: Column, literals: FilterLiteral[], negated: boolean, context: LeafContext, topColumn: Column = column): Uint8Array {
  const [member, nonMember] = negated ? [FALSE, TRUE] : [TRUE, FALSE];
  switch (column.kind) {
    case 'numeric':
    case 'nullable-int':
    case 'bool':
    case 'nullable-bool': {
      const numbers = literals.map((literal) => numericLiteral(literal, column, context, topColumn));
      const dtype = column.kind === 'numeric' || column.kind === 'nullable-int' ? column.dtype : 'uint8';
      const values = column.values;
      const out =
        values instanceof BigInt64Array || values instanceof BigUint64Array
          ? memberInt64(values, numbers, member, nonMember)
          : memberNumbers(values, numbers.map((x) => (dtype === 'float32' ? Math.fround(x.value) : x.value)), member, nonMember);
      return column.kind === 'nullable-int' || column.kind === 'nullable-bool' ? applyMask(out, column.mask) : out;
    }
    case 'string':
    case 'nullable-string': {
      const set = new Set(literals.map((literal) => stringLiteral(literal, column, context, topColumn)));
      const values: (string | null)[] = column.values;
      const out = newTruth(values.length);
      for (let i = 0; i < values.length; i++) {
        const x = values[i];
        out[i] = x === null || x === undefined ? UNKNOWN : set.has(x) ? member : nonMember;
      }
      return column.kind === 'nullable-string' ? applyMask(out, column.mask) : out;
    }
    case 'category':
      // The list is matched against the categories once; rows only look up their code.
      return mapCodes(column.codes, memberOfColumn(column.categories, literals, negated, context, topColumn));
  }
}

function memberNumbers(values: NumberArray, list: number[], member: number, nonMember: number): Uint8Array {
  const set = new Set(list);
  const out = newTruth(values.length);
  forEachFloat64Chunk(values, (x, at, n) => {
    for (let i = 0; i < n; i++) out[at + i] = set.has(x[i]!) ? member : x[i] === x[i] ? nonMember : UNKNOWN;
  });
  return out;
}

const SAFE_HIGH_WORD = 2 ** 21; // |x| < 2^53 exactly when the high word is within ±2^21

function memberInt64(values: BigInt64Array | BigUint64Array, list: { value: number; exact: bigint | null }[], member: number, nonMember: number): Uint8Array {
  // Values that fit a double go in a number set so most rows never become BigInts.
  const small = new Set<number>();
  const large = new Set<bigint>();
  for (const { value, exact } of list) {
    const integer = exact ?? (Number.isInteger(value) ? BigInt(value) : null);
    if (integer === null) continue; // a fractional value can never equal an integer
    if (integer >= -(2n ** 53n) && integer < 2n ** 53n) small.add(Number(integer));
    else large.add(integer);
  }
  const n = values.length;
  const out = newTruth(n);
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) {
      const x = values[i]!;
      out[i] = small.has(Number(x)) && BigInt(Number(x)) === x ? member : large.has(x) ? member : nonMember;
    }
    return out;
  }
  const signed = values instanceof BigInt64Array;
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  for (let i = 0; i < n; i++) {
    const high = signed ? words[2 * i + 1]! | 0 : words[2 * i + 1]!;
    if (high >= -SAFE_HIGH_WORD && high < SAFE_HIGH_WORD) {
      out[i] = small.has(high * 4294967296 + words[2 * i]!) ? member : nonMember;
    } else {
      out[i] = large.size > 0 && large.has(values[i]!) ? member : nonMember;
    }
  }
  return out;
}
