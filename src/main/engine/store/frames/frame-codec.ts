// obs/var columns (the shared Column model) to Arrow data and back. Categoricals become
// Arrow dictionaries with int32 indices; masks become validity bitmaps; every dtype comes
// back exactly as it went in.
import {
  Bool,
  Data,
  Dictionary,
  Field,
  Int32,
  Utf8,
  makeData,
  makeVector,
  type DataType,
  type Vector,
} from 'apache-arrow';
import { CellarError } from '../../../../shared/errors';
import type { Column, NumericArray, NumericDtype } from '../../columns/column-model';
import { allocateTyped, arrowTypeOf, dtypeOfArray, isBigIntDtype } from '../format/dtypes';
import type { CategoryValues, ColumnEntry } from '../format/manifest';

// ---------- bitmaps ----------

/** Arrow validity bitmap (1 = valid) from a Column mask (1 = missing); null when nothing is missing. */
export function validityFromMask(mask: Uint8Array, length: number): { bitmap: Uint8Array; nullCount: number } | null {
  let nullCount = 0;
  for (let i = 0; i < length; i++) nullCount += mask[i] ? 1 : 0;
  if (nullCount === 0) return null;
  const bitmap = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) if (!mask[i]) bitmap[i >> 3] |= 1 << (i & 7);
  return { bitmap, nullCount };
}

export function packBits(values: Uint8Array, length: number): Uint8Array {
  const bitmap = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) if (values[i]) bitmap[i >> 3] |= 1 << (i & 7);
  return bitmap;
}

function unpackBitsInto(bitmap: Uint8Array, bitOffset: number, length: number, out: Uint8Array, at: number): void {
  for (let i = 0; i < length; i++) {
    const bit = bitOffset + i;
    out[at + i] = (bitmap[bit >> 3] >> (bit & 7)) & 1;
  }
}

/** Writes 1 into `mask[at + i]` where row i of `data` is null. */
function maskNullsInto(data: Data, mask: Uint8Array, at: number): void {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return;
  const bitmap = data.nullBitmap;
  for (let i = 0; i < data.length; i++) {
    const bit = data.offset + i;
    if (((bitmap[bit >> 3] >> (bit & 7)) & 1) === 0) mask[at + i] = 1;
  }
}

// ---------- strings ----------

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function utf8Data(values: readonly (string | null)[], mask?: Uint8Array): Data<Utf8> {
  const length = values.length;
  const offsets = new Int32Array(length + 1);
  let capacity = 0;
  for (let i = 0; i < length; i++) capacity += (values[i]?.length ?? 0) * 3;
  const bytes = new Uint8Array(Math.max(capacity, 1));
  let position = 0;
  const isMissing = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const value = values[i];
    if (value === null || value === undefined || (mask && mask[i])) {
      isMissing[i] = 1;
    } else if (value.length > 0) {
      position += encoder.encodeInto(value, bytes.subarray(position)).written;
    }
    offsets[i + 1] = position;
  }
  const validity = validityFromMask(isMissing, length);
  return makeData({
    type: new Utf8(),
    length,
    valueOffsets: offsets,
    data: bytes.subarray(0, position),
    nullCount: validity?.nullCount ?? 0,
    nullBitmap: validity?.bitmap,
  });
}

/** Strings of a Utf8 chunk; nulls come back as null. */
function decodeUtf8(data: Data): (string | null)[] {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const first = offsets[data.offset];
  const last = offsets[data.offset + data.length];
  const whole = decoder.decode(bytes.subarray(first, last));
  // All-ASCII text (the usual case) maps byte offsets to string offsets directly.
  const ascii = whole.length === last - first;
  const out = new Array<string | null>(data.length);
  for (let i = 0; i < data.length; i++) {
    const start = offsets[data.offset + i];
    const end = offsets[data.offset + i + 1];
    out[i] = ascii ? whole.substring(start - first, end - first) : decoder.decode(bytes.subarray(start, end));
  }
  if (data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0) {
    const bitmap = data.nullBitmap;
    for (let i = 0; i < data.length; i++) {
      const bit = data.offset + i;
      if (((bitmap[bit >> 3] >> (bit & 7)) & 1) === 0) out[i] = null;
    }
  }
  return out;
}

/**
 * The strings at `rows` (ascending) of a plain UTF-8 chunk whose first row is `chunkStart`, put
 * at the same positions of `out`: rows outside the chunk are left as they are. Null when the
 * chunk is dictionary-encoded (the caller then decodes the whole column).
 */
export function pickUtf8Rows(data: Data, chunkStart: number, rows: Uint32Array, out: (string | null)[]): boolean {
  if (Dictionary.isDictionary(data.type as DataType)) return false;
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const bitmap = data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
  const end = chunkStart + data.length;
  for (let j = lowerBound(rows, chunkStart); j < rows.length && rows[j] < end; j++) {
    const i = data.offset + rows[j] - chunkStart;
    out[j] = bitmap && ((bitmap[i >> 3] >> (i & 7)) & 1) === 0 ? null : decoder.decode(bytes.subarray(offsets[i], offsets[i + 1]));
  }
  return true;
}

/** The first position of `sorted` holding a value ≥ `value`. */
function lowerBound(sorted: Uint32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------- categories ----------

export function categoryValuesOf(categories: Column, columnName: string): CategoryValues {
  switch (categories.kind) {
    case 'string':
      return { kind: 'string', values: categories.values.map((v) => v ?? '') };
    case 'nullable-string':
      return { kind: 'string', values: [...categories.values] };
    case 'numeric':
    case 'nullable-int': {
      const dtype = categories.dtype;
      return { kind: 'numeric', dtype, values: Array.from(categories.values as ArrayLike<number | bigint>, (v) => Number(v)) };
    }
    case 'bool':
    case 'nullable-bool':
      return { kind: 'bool', values: Array.from(categories.values) };
    case 'category':
      throw new CellarError('bad_element', `Column ${columnName}: categories cannot themselves be categorical.`);
  }
}

export function categoriesColumn(values: CategoryValues): Column {
  if (values.kind === 'string') return { kind: 'string', values: values.values as string[] };
  if (values.kind === 'bool') return { kind: 'bool', values: Uint8Array.from(values.values as number[]) };
  const dtype = values.dtype ?? 'float64';
  const typed = allocateTyped(dtype, values.values.length);
  if (isBigIntDtype(dtype)) {
    for (let i = 0; i < values.values.length; i++) (typed as BigInt64Array)[i] = BigInt(values.values[i] as number);
  } else {
    (typed as Float64Array).set(values.values as number[]);
  }
  return { kind: 'numeric', dtype, values: typed };
}

function categoryArrowType(values: CategoryValues): DataType {
  if (values.kind === 'string') return new Utf8();
  if (values.kind === 'bool') return new Bool();
  return arrowTypeOf(values.dtype ?? 'float64');
}

/** The dictionary vector of a categorical column: its categories as an Arrow vector. */
export function categoryDictionary(values: CategoryValues): Vector {
  const column = categoriesColumn(values);
  if (column.kind === 'string') return makeVector(utf8Data(column.values));
  if (column.kind === 'bool') {
    return makeVector(makeData({ type: new Bool(), length: column.values.length, data: packBits(column.values, column.values.length) }));
  }
  if (column.kind === 'numeric') {
    const type = arrowTypeOf(column.dtype);
    return makeVector(makeData({ type, length: column.values.length, data: column.values } as never));
  }
  throw new CellarError('internal', 'Unexpected category kind.');
}

// ---------- schema ----------

/** The Arrow field of a column in a data file. */
export function arrowFieldFor(entry: ColumnEntry, dictionaryId: number): Field {
  switch (entry.dtype) {
    case 'bool':
    case 'nullable-bool':
      return new Field(entry.name, new Bool(), true);
    case 'string':
    case 'nullable-string':
      return new Field(entry.name, new Utf8(), true);
    case 'nullable-int':
      return new Field(entry.name, arrowTypeOf(entry.intDtype ?? 'int64'), true);
    case 'category':
      return new Field(
        entry.name,
        new Dictionary(categoryArrowType(entry.categories!), new Int32(), dictionaryId, entry.ordered ?? false),
        true,
      );
    default:
      return new Field(entry.name, arrowTypeOf(entry.dtype), true);
  }
}

// ---------- encode ----------

function numericData(dtype: NumericDtype, values: NumericArray, length: number, validity?: { bitmap: Uint8Array; nullCount: number } | null): Data {
  return makeData({
    type: arrowTypeOf(dtype),
    length,
    data: values.subarray(0, length),
    nullCount: validity?.nullCount ?? 0,
    nullBitmap: validity?.bitmap,
  } as never);
}

function stringsOfCategories(codes: Int32Array, categories: CategoryValues): (string | null)[] {
  const values = categories.values;
  const out = new Array<string | null>(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = codes[i] < 0 ? null : String(values[codes[i]]);
  return out;
}

/**
 * Arrow data for `column` under the logical `entry`. Categorical codes must already be
 * codes into `entry.categories` (the writer remaps them); `dictionary` is that list as a vector.
 */
export function columnToData(entry: ColumnEntry, column: Column, length: number, dictionary?: Vector): Data {
  switch (entry.dtype) {
    case 'category': {
      if (column.kind !== 'category') break;
      const codes = new Int32Array(length);
      const missing = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        const code = column.codes[i];
        if (code < 0) missing[i] = 1;
        else codes[i] = code;
      }
      const validity = validityFromMask(missing, length);
      const field = arrowFieldFor(entry, 0);
      return makeData({
        type: field.type as Dictionary,
        length,
        data: codes,
        nullCount: validity?.nullCount ?? 0,
        nullBitmap: validity?.bitmap,
        dictionary: dictionary!,
      });
    }
    case 'string':
      if (column.kind === 'string') return utf8Data(column.values.slice(0, length));
      // A categorical past the category limit is stored as its values.
      if (column.kind === 'category' && entry.convertedFrom === 'category') {
        return utf8Data(stringsOfCategories(column.codes.subarray(0, length), categoryValuesOf(column.categories, entry.name)));
      }
      break;
    case 'nullable-string':
      if (column.kind === 'nullable-string') return utf8Data(column.values.slice(0, length), column.mask);
      break;
    case 'bool':
      if (column.kind === 'bool') return makeData({ type: new Bool(), length, data: packBits(column.values, length) });
      break;
    case 'nullable-bool':
      if (column.kind === 'nullable-bool') {
        const validity = validityFromMask(column.mask, length);
        return makeData({
          type: new Bool(),
          length,
          data: packBits(column.values, length),
          nullCount: validity?.nullCount ?? 0,
          nullBitmap: validity?.bitmap,
        });
      }
      break;
    case 'nullable-int':
      if (column.kind === 'nullable-int') return numericData(column.dtype, column.values, length, validityFromMask(column.mask, length));
      break;
    default:
      if (column.kind === 'numeric' && column.dtype === entry.dtype) return numericData(column.dtype, column.values, length);
  }
  throw new CellarError('dtype_clash', `Column ${entry.name} is ${entry.dtype} in the store but the new rows hold ${column.kind === 'numeric' ? column.dtype : column.kind}.`);
}

// ---------- decode ----------

/** Assembles one logical column from the Arrow chunks of its pieces. */
export class ColumnAssembler {
  private numeric: NumericArray | null = null;
  private flags: Uint8Array | null = null;
  private mask: Uint8Array | null = null;
  private strings: (string | null)[] | null = null;
  private codes: Int32Array | null = null;
  private readonly categoryIndex: Map<string | number, number> | null = null;

  constructor(
    private readonly entry: ColumnEntry,
    private readonly nRows: number,
  ) {
    switch (entry.dtype) {
      case 'category':
        this.codes = new Int32Array(nRows).fill(-1);
        this.categoryIndex = new Map(entry.categories!.values.map((v, i) => [v, i]));
        break;
      case 'string':
        this.strings = new Array<string | null>(nRows).fill(null);
        break;
      case 'nullable-string':
        this.strings = new Array<string | null>(nRows).fill('');
        this.mask = new Uint8Array(nRows).fill(1);
        break;
      case 'bool':
        this.flags = new Uint8Array(nRows);
        break;
      case 'nullable-bool':
        this.flags = new Uint8Array(nRows);
        this.mask = new Uint8Array(nRows).fill(1);
        break;
      case 'nullable-int':
        this.numeric = allocateTyped(entry.intDtype ?? 'int64', nRows);
        this.mask = new Uint8Array(nRows).fill(1);
        break;
      default: {
        const dtype = entry.dtype as NumericDtype;
        this.numeric = allocateTyped(dtype, nRows);
        // Rows no piece covers read as missing: NaN for floats.
        if (dtype === 'float32' || dtype === 'float64') (this.numeric as Float64Array).fill(NaN);
      }
    }
  }

  /** Copies an Arrow chunk into rows [at, at + data.length). */
  add(data: Data, at: number): void {
    if (at < 0 || at + data.length > this.nRows) {
      throw new CellarError('bad_element', `Column ${this.entry.name}: a stored piece lies outside rows 0..${this.nRows}.`);
    }
    const type = data.type as DataType;
    if (this.codes) return this.addDictionary(data, at);
    if (this.strings) {
      const strings = Dictionary.isDictionary(type) ? this.dictionaryStrings(data) : decodeUtf8(data);
      for (let i = 0; i < strings.length; i++) this.strings[at + i] = strings[i];
      if (this.mask) {
        this.mask.fill(0, at, at + data.length);
        maskNullsInto(data, this.mask, at);
        for (let i = 0; i < data.length; i++) if (this.mask[at + i]) this.strings[at + i] = '';
      }
      return;
    }
    if (this.flags) {
      unpackBitsInto(data.values as Uint8Array, data.offset, data.length, this.flags, at);
      if (this.mask) {
        this.mask.fill(0, at, at + data.length);
        maskNullsInto(data, this.mask, at);
      }
      return;
    }
    const target = this.numeric!;
    const source = (data.values as NumericArray).subarray(data.offset, data.offset + data.length);
    if (dtypeOfArray(source) === dtypeOfArray(target)) {
      (target as Float64Array).set(source as Float64Array, at);
    } else if (isBigIntDtype(dtypeOfArray(target))) {
      for (let i = 0; i < source.length; i++) (target as BigInt64Array)[at + i] = BigInt(source[i] as number);
    } else {
      for (let i = 0; i < source.length; i++) (target as Float64Array)[at + i] = Number(source[i]);
    }
    if (this.mask) {
      this.mask.fill(0, at, at + data.length);
      maskNullsInto(data, this.mask, at);
    }
  }

  private dictionaryStrings(data: Data): (string | null)[] {
    const dictionary = data.dictionary!;
    const values = Array.from({ length: dictionary.length }, (_, i) => String(dictionary.get(i)));
    const indices = data.values as Int32Array;
    const out = new Array<string | null>(data.length);
    for (let i = 0; i < data.length; i++) out[i] = values[indices[data.offset + i]] ?? null;
    const missing = new Uint8Array(data.length);
    maskNullsInto(data, missing, 0);
    for (let i = 0; i < data.length; i++) if (missing[i]) out[i] = null;
    return out;
  }

  private addDictionary(data: Data, at: number): void {
    const codes = this.codes!;
    const categories = this.entry.categories!;
    const dictionary = data.dictionary;
    if (!dictionary) throw new CellarError('bad_element', `Column ${this.entry.name}: stored piece is not categorical.`);
    // Stored dictionaries are prefixes of the logical categories, so codes usually map to themselves.
    const remap = new Int32Array(dictionary.length);
    let identity = dictionary.length <= categories.values.length;
    for (let i = 0; i < dictionary.length; i++) {
      const raw = dictionary.get(i) as string | number | bigint | boolean | null;
      const key = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'boolean' ? (raw ? 1 : 0) : raw;
      const code = key === null ? undefined : this.categoryIndex!.get(key);
      if (code === undefined) {
        throw new CellarError('bad_element', `Column ${this.entry.name}: stored category ${String(raw)} is not in the manifest.`);
      }
      remap[i] = code;
      if (code !== i) identity = false;
    }
    const indices = data.values as Int32Array;
    const n = data.length;
    if (identity) codes.set(indices.subarray(data.offset, data.offset + n), at);
    else for (let i = 0; i < n; i++) codes[at + i] = remap[indices[data.offset + i]];
    for (let i = 0; i < n; i++) {
      const code = codes[at + i];
      if (code < 0 || code >= categories.values.length) {
        throw new CellarError('bad_element', `Column ${this.entry.name}: categorical codes out of range.`);
      }
    }
    if (data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0) {
      const missing = new Uint8Array(n);
      maskNullsInto(data, missing, 0);
      for (let i = 0; i < n; i++) if (missing[i]) codes[at + i] = -1;
    }
  }

  finish(): Column {
    const entry = this.entry;
    switch (entry.dtype) {
      case 'category':
        return { kind: 'category', codes: this.codes!, categories: categoriesColumn(entry.categories!), ordered: entry.ordered ?? false };
      case 'string':
        return { kind: 'string', values: this.strings! };
      case 'nullable-string':
        return { kind: 'nullable-string', values: this.strings as string[], mask: this.mask! };
      case 'bool':
        return { kind: 'bool', values: this.flags! };
      case 'nullable-bool':
        return { kind: 'nullable-bool', values: this.flags!, mask: this.mask! };
      case 'nullable-int':
        return { kind: 'nullable-int', dtype: entry.intDtype ?? 'int64', values: this.numeric!, mask: this.mask! };
      default:
        return { kind: 'numeric', dtype: entry.dtype as NumericDtype, values: this.numeric! };
    }
  }
}
