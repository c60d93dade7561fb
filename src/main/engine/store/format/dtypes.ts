// Numeric dtypes: typed-array constructors, Arrow types, promotion, and the narrow
// integer encodings that hold integer-valued data exactly.
import {
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  type DataType,
} from 'apache-arrow';
import { isIntDtype, type IntDtype, type NumericArray, type NumericDtype } from '../../columns/column-model';

type TypedArrayConstructor = {
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
};

const CONSTRUCTORS: Record<NumericDtype, TypedArrayConstructor> = {
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  float32: Float32Array,
  float64: Float64Array,
};

export function isBigIntDtype(dtype: NumericDtype): boolean {
  return dtype === 'int64' || dtype === 'uint64';
}

export function bytesPerElement(dtype: NumericDtype): number {
  return CONSTRUCTORS[dtype].BYTES_PER_ELEMENT;
}

export function allocateTyped(dtype: NumericDtype, length: number): NumericArray {
  return new CONSTRUCTORS[dtype](length);
}

/**
 * A typed array whose contents are undefined until written: for outputs that are filled
 * completely, zeroing a large array first would cost a pass over fresh memory for nothing.
 */
export function allocateTypedUnfilled(dtype: NumericDtype, length: number): NumericArray {
  const ctor = CONSTRUCTORS[dtype];
  const bytes = Buffer.allocUnsafeSlow(length * ctor.BYTES_PER_ELEMENT);
  return new ctor(bytes.buffer, bytes.byteOffset, length);
}

/** A typed view of raw little-endian bytes; copies when the bytes are not aligned. */
export function viewTyped(dtype: NumericDtype, bytes: Uint8Array, length: number): NumericArray {
  const ctor = CONSTRUCTORS[dtype];
  if (bytes.byteOffset % ctor.BYTES_PER_ELEMENT === 0) return new ctor(bytes.buffer, bytes.byteOffset, length);
  const copy = new Uint8Array(length * ctor.BYTES_PER_ELEMENT);
  copy.set(bytes.subarray(0, copy.length));
  return new ctor(copy.buffer, 0, length);
}

export function dtypeOfArray(values: NumericArray): NumericDtype {
  if (values instanceof Float32Array) return 'float32';
  if (values instanceof Float64Array) return 'float64';
  if (values instanceof Int32Array) return 'int32';
  if (values instanceof Uint8Array) return 'uint8';
  if (values instanceof Uint16Array) return 'uint16';
  if (values instanceof Uint32Array) return 'uint32';
  if (values instanceof Int16Array) return 'int16';
  if (values instanceof Int8Array) return 'int8';
  if (values instanceof BigInt64Array) return 'int64';
  return 'uint64';
}

export function arrowTypeOf(dtype: NumericDtype): DataType {
  switch (dtype) {
    case 'int8':
      return new Int8();
    case 'int16':
      return new Int16();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'uint8':
      return new Uint8();
    case 'uint16':
      return new Uint16();
    case 'uint32':
      return new Uint32();
    case 'uint64':
      return new Uint64();
    case 'float32':
      return new Float32();
    case 'float64':
      return new Float64();
  }
}

const INT_BITS: Record<IntDtype, number> = {
  int8: 8,
  int16: 16,
  int32: 32,
  int64: 64,
  uint8: 8,
  uint16: 16,
  uint32: 32,
  uint64: 64,
};

function signedOfBits(bits: number): NumericDtype {
  return bits <= 8 ? 'int8' : bits <= 16 ? 'int16' : bits <= 32 ? 'int32' : bits <= 64 ? 'int64' : 'float64';
}

/** The dtype that holds values of both (numpy's promotion rules for these types). */
export function promoteDtypes(a: NumericDtype, b: NumericDtype): NumericDtype {
  if (a === b) return a;
  const aFloat = !isIntDtype(a);
  const bFloat = !isIntDtype(b);
  if (aFloat && bFloat) return 'float64';
  if (aFloat || bFloat) {
    const float = aFloat ? a : b;
    const int = (aFloat ? b : a) as IntDtype;
    return float === 'float32' && INT_BITS[int] <= 16 ? 'float32' : 'float64';
  }
  const ia = a as IntDtype;
  const ib = b as IntDtype;
  const aSigned = ia.startsWith('int');
  const bSigned = ib.startsWith('int');
  if (aSigned === bSigned) return INT_BITS[ia] >= INT_BITS[ib] ? ia : ib;
  const signedBits = aSigned ? INT_BITS[ia] : INT_BITS[ib];
  const unsignedBits = aSigned ? INT_BITS[ib] : INT_BITS[ia];
  return signedBits > unsignedBits ? (aSigned ? ia : ib) : signedOfBits(unsignedBits * 2);
}

/** Narrow encodings tried for integer-valued data, narrowest first. */
const NARROW_CANDIDATES: { dtype: NumericDtype; min: number; max: number }[] = [
  { dtype: 'uint8', min: 0, max: 255 },
  { dtype: 'int8', min: -128, max: 127 },
  { dtype: 'uint16', min: 0, max: 65535 },
  { dtype: 'int16', min: -32768, max: 32767 },
  { dtype: 'uint32', min: 0, max: 4294967295 },
  { dtype: 'int32', min: -2147483648, max: 2147483647 },
];

// One scan function per array type keeps each loop monomorphic (fast typed-array access).
// Each returns [min, max], or null when some value is not an integer (or is NaN or -0).
function float32IntegerRange(values: Float32Array, start: number, end: number): [number, number] | null {
  // Values that are int32 take the branch-free path; any other value has the general scan decide.
  let min = 2147483647;
  let max = -2147483648;
  let other = 0;
  for (let i = start; i < end; i++) {
    const v = values[i];
    const n = v | 0;
    // Fractions, NaN and values past int32 differ from their int32 truncation.
    other |= +(n !== v);
    min = n < min ? n : min;
    max = n > max ? n : max;
  }
  return other || hasNegativeZero(values, start, end, min, max) ? generalIntegerRange(values, start, end) : [min, max];
}

function float64IntegerRange(values: Float64Array, start: number, end: number): [number, number] | null {
  let min = 2147483647;
  let max = -2147483648;
  let other = 0;
  for (let i = start; i < end; i++) {
    const v = values[i];
    const n = v | 0;
    other |= +(n !== v);
    min = n < min ? n : min;
    max = n > max ? n : max;
  }
  return other || hasNegativeZero(values, start, end, min, max) ? generalIntegerRange(values, start, end) : [min, max];
}

/** -0 equals 0, so the scans above miss it (an integer type would turn it into +0): looked for only when 0 is in range. */
function hasNegativeZero(values: Float32Array | Float64Array, start: number, end: number, min: number, max: number): boolean {
  if (min > 0 || max < 0) return false;
  for (let i = start; i < end; i++) if (values[i] === 0 && 1 / values[i] < 0) return true;
  return false;
}

function generalIntegerRange(values: Float32Array | Float64Array, start: number, end: number): [number, number] | null {
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const v = values[i];
    // Non-integers, NaN and -0 (an integer type would turn it into +0) need the float type.
    if (v !== Math.floor(v) || (v === 0 && 1 / v < 0)) return null;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

function intRange(values: Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array, start: number, end: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

function bigIntRange(values: BigInt64Array | BigUint64Array, start: number, end: number): [number, number] | null {
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const v = Number(values[i]);
    if (BigInt(v) !== values[i]) return null;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/**
 * The narrowest dtype that stores `values[start, end)` exactly: a small integer type when every
 * value is an integer in its range, otherwise the values' own dtype.
 */
export function narrowestExactDtype(values: NumericArray, start: number, end: number): NumericDtype {
  const own = dtypeOfArray(values);
  if (own === 'uint8' || own === 'int8') return own;
  if (end <= start) return 'uint8';
  let range: [number, number] | null;
  if (values instanceof Float32Array) range = float32IntegerRange(values, start, end);
  else if (values instanceof Float64Array) range = float64IntegerRange(values, start, end);
  else if (values instanceof BigInt64Array || values instanceof BigUint64Array) range = bigIntRange(values, start, end);
  else range = intRange(values, start, end);
  if (!range) return own;
  const [min, max] = range;
  for (const candidate of NARROW_CANDIDATES) {
    if (min >= candidate.min && max <= candidate.max) {
      return bytesPerElement(candidate.dtype) < bytesPerElement(own) ? candidate.dtype : own;
    }
  }
  return own;
}

/** Does `outer` hold every value `inner` can (so data stored as `inner` fits `outer`)? */
export function holdsAll(outer: NumericDtype, inner: NumericDtype): boolean {
  return promoteDtypes(outer, inner) === outer;
}
