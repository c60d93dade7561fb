// The HDF5 primitives the h5ad writer needs, on top of h5wasm's low-level
// module: groups, typed datasets (written in bounded slabs), vlen UTF-8
// strings, attributes, appendable chunked datasets, and boolean stand-ins
// (see hdf5-bool.ts). Everything else in the writer speaks only to this class.
import { CellarError } from '../../../../../shared/errors';
import type { H5wasm } from '../h5';
import { typedArrayConstructor } from '../h5';
import type { NumericArray, NumericDtype } from '../../../columns/column-model';
import { boolPlaceholderMetadata } from './hdf5-bool';

type H5Module = H5wasm['Module'];
type H5FileHandle = InstanceType<H5wasm['File']>;

/** Element type of a dataset: a numeric dtype, or 'bool' (h5py's boolean enum). */
export type ArrayDtype = NumericDtype | 'bool';

const H5S_UNLIMITED = 18446744073709551615n;
/** Largest slab copied into the wasm heap at once (its heap is capped at 2 GiB). */
const SLAB_BYTES = 32 << 20;
/** Target size of one chunk of a chunked dataset. */
export const CHUNK_BYTES = 1 << 20;
/** Bytes staged in the wasm heap before an appendable dataset is written to. */
const STAGE_BYTES = 8 << 20;
// Level 1: a fifth less time than level 4 (h5py's default) for ~2% more bytes on count matrices.
export const GZIP_LEVEL = 1;
/** HDF5 filter ids: deflate is built in; lzf (h5py's) comes with h5wasm-plugins. */
const FILTERS: Record<Exclude<OutputCompression, 'none'>, { id: number; options: number[] }> = {
  gzip: { id: 1, options: [GZIP_LEVEL] },
  lzf: { id: 32000, options: [] },
};

export type OutputCompression = 'gzip' | 'lzf' | 'none';

/** HDF5 strings end at the first NUL, so a value holding one would be cut short silently. */
export function checkNoNul(path: string, values: readonly string[]): void {
  const at = values.findIndex((v) => v.includes('\0'));
  if (at >= 0) {
    throw new CellarError('bad_element', `Cannot write ${path.replace(/^\/+/, '')}: value ${at} contains a NUL character, which HDF5 strings cannot hold.`);
  }
}

export function bytesPerElement(dtype: ArrayDtype): number {
  return dtype === 'bool' ? 1 : typedArrayConstructor(dtype).BYTES_PER_ELEMENT;
}

function typeMetadata(dtype: ArrayDtype): object {
  if (dtype === 'bool') return boolPlaceholderMetadata();
  const size = bytesPerElement(dtype);
  const isFloat = dtype.startsWith('float');
  return { type: isFloat ? 1 : 0, size, signed: isFloat || dtype.startsWith('int'), vlen: false, littleEndian: true, total_size: 0 };
}

function stringMetadata(shape: bigint[]): object {
  // cset 1 = UTF-8: what h5py writes for str and what anndata expects.
  return { type: 3, size: 0, signed: false, vlen: true, littleEndian: true, cset: 1, total_size: 0, shape, maxshape: shape, chunks: null };
}

export function asBytes(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Chunk shape of about CHUNK_BYTES: whole trailing dimensions, rows along the first. */
export function chunkShape(shape: readonly number[], elementBytes: number): bigint[] {
  const rowElements = Math.max(1, product(shape.slice(1)));
  const rows = Math.max(1, Math.min(shape[0] || 1, Math.floor(CHUNK_BYTES / (rowElements * elementBytes))));
  return [BigInt(rows), ...shape.slice(1).map((d) => BigInt(Math.max(1, d)))];
}

export type RecordField =
  | { name: string; kind: 'numeric'; dtype: NumericDtype; values: NumericArray }
  | { name: string; kind: 'string'; values: readonly string[] };

export interface OutputOptions {
  compression: OutputCompression;
  /** Datasets written without compression (lzf could not shrink them). */
  uncompressed?: ReadonlySet<string>;
}

/**
 * h5py marks lzf optional, so a chunk lzf cannot shrink is stored as is; h5wasm can only
 * make filters mandatory, and such a write fails. The writer then writes the file again
 * with that dataset uncompressed (see writeH5ad).
 */
export class IncompressibleDataset extends CellarError {
  constructor(readonly datasetPath: string) {
    super('internal', `lzf could not compress ${datasetPath.replace(/^\/+/, '')}.`);
  }
}

/** Runs an HDF5 write of a compressed dataset, naming the dataset if lzf refused its data. */
function lzfGuard<T>(compression: OutputCompression, compressed: boolean, path: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    if (compressed && compression === 'lzf' && /filter/i.test(String((err as Error)?.message ?? err))) throw new IncompressibleDataset(path);
    throw err;
  }
}

function filterMetadata(compression: OutputCompression, compress: boolean): { compression: number; compression_opts: number[] } {
  if (!compress || compression === 'none') return { compression: 0, compression_opts: [] };
  const filter = FILTERS[compression];
  return { compression: filter.id, compression_opts: filter.options };
}

/** What the h5ad writer asks of an HDF5 file (paths are absolute, parents exist). */
export interface H5Sink {
  /** Boolean stand-in datatypes written (converted after closing); 0 when real booleans are written. */
  readonly boolPlaceholders: number;
  group(path: string): void;
  stringAttribute(path: string, name: string, value: string): void;
  stringArrayAttribute(path: string, name: string, values: readonly string[]): void;
  numericAttribute(path: string, name: string, values: NumericArray, shape: number[]): void;
  boolAttribute(path: string, name: string, value: boolean): void;
  strings(path: string, values: readonly string[], shape?: number[]): void;
  array(path: string, values: NumericArray, dtype: ArrayDtype, shape?: number[]): void;
  records(path: string, rows: number, fields: RecordField[]): void;
  appendable(path: string, dtype: ArrayDtype, maxLength?: number, exactLength?: number): AppendableSink;
}

/**
 * A 1-d dataset filled in order; `finish` returns its length, `release` abandons it. The values
 * given to `append` are the caller's again once it returns (or its promise settles).
 */
export interface AppendableSink {
  append(values: ArrayBufferView): void | Promise<void>;
  finish(): number | Promise<number>;
  release(): void;
}

export class H5Output implements H5Sink {
  /** Boolean stand-in datatypes created so far (each must be converted after closing). */
  boolPlaceholders = 0;

  constructor(
    private readonly module: H5Module,
    private readonly file: H5FileHandle,
    private readonly options: OutputOptions,
  ) {}

  private get fileId(): bigint {
    return this.file.file_id;
  }

  /** Copies bytes into the wasm heap for the duration of `use`. */
  private withHeap<T>(bytes: Uint8Array, use: (pointer: bigint) => T): T {
    const pointer = this.module._malloc(Math.max(1, bytes.byteLength));
    if (!pointer) throw new Error(`out of wasm memory allocating ${bytes.byteLength} bytes`);
    try {
      this.module.HEAPU8.set(bytes, pointer);
      return use(BigInt(pointer));
    } finally {
      this.module._free(pointer);
    }
  }

  group(path: string): void {
    this.module.create_group(this.fileId, path, false);
  }

  stringAttribute(path: string, name: string, value: string): void {
    checkNoNul(`${path}@${name}`, [value]);
    this.module.create_vlen_str_attribute(this.fileId, path, name, [value], stringMetadata([]) as never);
  }

  stringArrayAttribute(path: string, name: string, values: readonly string[]): void {
    // HDF5 refuses an empty vlen write; h5py stores an empty list as an empty float64 array too.
    if (values.length === 0) return this.numericAttribute(path, name, new Float64Array(0), [0]);
    checkNoNul(`${path}@${name}`, values);
    this.module.create_vlen_str_attribute(this.fileId, path, name, [...values], stringMetadata([BigInt(values.length)]) as never);
  }

  numericAttribute(path: string, name: string, values: NumericArray, shape: number[]): void {
    this.attribute(path, name, values, shape, dtypeOf(values));
  }

  boolAttribute(path: string, name: string, value: boolean): void {
    this.attribute(path, name, Uint8Array.of(value ? 1 : 0), [], 'bool');
  }

  private attribute(path: string, name: string, values: ArrayBufferView, shape: number[], dtype: ArrayDtype): void {
    const dims = shape.map(BigInt);
    const metadata = { ...typeMetadata(dtype), shape: dims, maxshape: dims, chunks: null };
    this.withHeap(asBytes(values), (pointer) => this.module.create_attribute(this.fileId, path, name, pointer, metadata as never));
    if (dtype === 'bool') this.boolPlaceholders++;
  }

  /** Variable-length UTF-8 strings; `shape` [] writes a 0-d (scalar) dataset. */
  strings(path: string, values: readonly string[], shape: number[] = [values.length]): void {
    if (product(shape) !== values.length) throw new Error(`${values.length} strings do not fill shape [${shape}]`);
    checkNoNul(path, values);
    // HDF5 reads a vlen string dataset's memory as an array of char*: the strings go into the
    // heap packed, NUL-terminated, in one allocation. (h5wasm's create_vlen_str_dataset
    // converts each string through embind, ~8 µs a string: 0.4 s for an export's obs and var.)
    const bytes = values.reduce((sum, value) => sum + Buffer.byteLength(value, 'utf8') + 1, 0);
    const pointers = this.module._malloc(Math.max(1, values.length * 4));
    const text = pointers ? this.module._malloc(Math.max(1, bytes)) : 0;
    try {
      if (!pointers || !text) throw new Error(`out of wasm memory allocating ${bytes} bytes of strings`);
      const heap = Buffer.from(this.module.HEAPU8.buffer);
      const addresses = new Uint32Array(this.module.HEAPU8.buffer, pointers, values.length);
      let at = text;
      for (let i = 0; i < values.length; i++) {
        addresses[i] = at;
        at += heap.write(values[i], at, 'utf8');
        heap[at++] = 0;
      }
      this.module.create_dataset(this.fileId, path, BigInt(pointers), stringMetadata(shape.map(BigInt)) as never);
    } finally {
      if (text) this.module._free(text);
      if (pointers) this.module._free(pointers);
    }
  }

  /**
   * A dense array, row-major. Small arrays are written in one call; large ones
   * are chunked and written in slabs of rows so the wasm heap stays bounded.
   */
  array(path: string, values: NumericArray, dtype: ArrayDtype, shape: number[] = [values.length]): void {
    const elementBytes = bytesPerElement(dtype);
    const total = product(shape);
    if (total !== values.length) throw new Error(`${values.length} values do not fill shape [${shape}]`);
    const compress = this.options.compression !== 'none' && shape.length > 0 && total > 0 && !this.options.uncompressed?.has(path);
    const guard = <T>(write: () => T) => lzfGuard(this.options.compression, compress, path, write);
    const dims = shape.map(BigInt);
    const base = typeMetadata(dtype);
    const bytes = asBytes(values);

    if (bytes.byteLength <= SLAB_BYTES || shape.length === 0) {
      const metadata = {
        ...base,
        shape: dims,
        maxshape: dims,
        chunks: compress ? chunkShape(shape, elementBytes) : null,
        ...filterMetadata(this.options.compression, compress),
      };
      guard(() => this.withHeap(bytes, (pointer) => this.module.create_dataset(this.fileId, path, pointer, metadata as never)));
    } else {
      const rowBytes = (bytes.byteLength / shape[0]) | 0;
      const metadata = {
        ...base,
        shape: [0n, ...dims.slice(1)],
        maxshape: dims,
        chunks: chunkShape(shape, elementBytes),
        ...filterMetadata(this.options.compression, compress),
      };
      this.withHeap(new Uint8Array(0), (pointer) => this.module.create_dataset(this.fileId, path, pointer, metadata as never));
      this.module.resize_dataset(this.fileId, path, dims);
      const rowsPerSlab = Math.max(1, Math.floor(SLAB_BYTES / rowBytes));
      for (let row = 0; row < shape[0]; row += rowsPerSlab) {
        const rows = Math.min(rowsPerSlab, shape[0] - row);
        const slab = bytes.subarray(row * rowBytes, (row + rows) * rowBytes);
        const count = [BigInt(rows), ...dims.slice(1)];
        const offset = [BigInt(row), ...dims.slice(1).map(() => 0n)];
        const stride = dims.map(() => 1n);
        guard(() => this.withHeap(slab, (pointer) => this.module.set_dataset_data(this.fileId, path, count, offset, stride, pointer)));
      }
    }
    if (dtype === 'bool') this.boolPlaceholders++;
  }

  /**
   * A 1-d compound dataset (anndata's rec-array): numeric fields keep their
   * dtype, string fields are vlen UTF-8 as anndata writes them.
   */
  records(path: string, rows: number, fields: RecordField[]): void {
    const POINTER_BYTES = 4; // a vlen string in wasm32 memory is a char*
    const layout = fields.map((field) => ({ field, size: field.kind === 'string' ? POINTER_BYTES : bytesPerElement(field.dtype) }));
    const offsets: number[] = [];
    let recordSize = 0;
    for (const { size } of layout) {
      offsets.push(recordSize);
      recordSize += size;
    }
    const encoder = new TextEncoder();
    const allocations: number[] = [];
    const allocate = (bytes: number) => {
      const pointer = this.module._malloc(Math.max(1, bytes));
      if (!pointer) throw new Error(`out of wasm memory allocating ${bytes} bytes`);
      allocations.push(pointer);
      return pointer;
    };
    try {
      const recordsPointer = allocate(rows * recordSize);
      layout.forEach(({ field, size }, f) => {
        for (let row = 0; row < rows; row++) {
          const at = recordsPointer + row * recordSize + offsets[f];
          if (field.kind === 'string') {
            if (row === 0) checkNoNul(`${path}/${field.name}`, field.values);
            const encoded = encoder.encode(field.values[row]);
            const text = allocate(encoded.length + 1);
            this.module.HEAPU8.set(encoded, text);
            this.module.HEAPU8[text + encoded.length] = 0;
            new DataView(this.module.HEAPU8.buffer).setUint32(at, text, true);
          } else {
            const source = asBytes(field.values).subarray(row * size, (row + 1) * size);
            this.module.HEAPU8.set(source, at);
          }
        }
      });
      const members = layout.map(({ field, size }, f) => ({
        name: field.name,
        offset: offsets[f],
        ...(field.kind === 'string'
          ? { type: 3, size, signed: false, vlen: true, cset: 1, littleEndian: true }
          : { ...typeMetadata(field.dtype), size }),
      }));
      const dims = [BigInt(rows)];
      const metadata = {
        type: 6,
        size: Math.max(1, recordSize),
        signed: false,
        vlen: false,
        littleEndian: true,
        total_size: 0,
        compound_type: { nmembers: members.length, members },
        shape: dims,
        maxshape: dims,
        chunks: null,
      };
      this.module.create_dataset(this.fileId, path, BigInt(recordsPointer), metadata as never);
    } finally {
      for (const pointer of allocations) this.module._free(pointer);
    }
  }

  /**
   * A 1-d dataset written by appending values in order (a sparse matrix's arrays): chunked and
   * resizable (maximum shape unlimited), as anndata writes them. `maxLength` (the exact length,
   * or a bound such as rows × columns) keeps the chunks of a small matrix small: HDF5 stores a
   * partial chunk whole, so a 4 MiB chunk for 1,000 values would make a tiny export megabytes.
   * With `exactLength` the dataset is extended to it once, up front.
   */
  appendable(path: string, dtype: ArrayDtype, maxLength?: number, exactLength?: number): AppendableArray {
    const elementBytes = bytesPerElement(dtype);
    const fixed = exactLength !== undefined && exactLength > 0;
    const bound = fixed ? exactLength : Math.max(1, maxLength ?? exactLength ?? Infinity);
    const chunkElements = Math.max(1, Math.min(bound, Math.floor(CHUNK_BYTES / elementBytes)));
    const compressed = this.options.compression !== 'none' && !this.options.uncompressed?.has(path);
    const guard = (write: () => void) => lzfGuard(this.options.compression, compressed, path, write);
    if (dtype === 'bool') this.boolPlaceholders++;
    // Created empty (h5wasm writes a new dataset's whole extent from the pointer it is given),
    // then, when its size is known, extended to it once: chunks are only allocated when written.
    const metadata = { ...typeMetadata(dtype), shape: [0n], maxshape: [H5S_UNLIMITED], chunks: [BigInt(chunkElements)], ...filterMetadata(this.options.compression, compressed) };
    this.withHeap(new Uint8Array(0), (pointer) => this.module.create_dataset(this.fileId, path, pointer, metadata as never));
    if (fixed) this.module.resize_dataset(this.fileId, path, [BigInt(exactLength)]);
    // Whole chunks are staged and written several at a time (fewer calls into HDF5).
    const stageElements = chunkElements * Math.max(1, Math.min(Math.ceil(bound / chunkElements), Math.floor(STAGE_BYTES / (chunkElements * elementBytes))));
    return new AppendableArray(this.module, this.fileId, path, elementBytes, stageElements, !fixed, guard);
  }
}

/**
 * Appends through a staging buffer in the wasm heap holding whole chunks, so every write to
 * the file covers whole chunks (no read-modify-write of compressed chunks).
 */
export class AppendableArray implements AppendableSink {
  private pointer: number;
  private filled = 0;
  length = 0;

  constructor(
    private readonly module: H5Module,
    private readonly fileId: bigint,
    private readonly path: string,
    private readonly elementBytes: number,
    private readonly stageElements: number,
    /** The dataset grows before each write (else it was given its final length up front). */
    private readonly resize: boolean,
    private readonly guard: (write: () => void) => void = (write) => write(),
  ) {
    this.pointer = module._malloc(stageElements * elementBytes);
    if (!this.pointer) throw new Error(`out of wasm memory allocating a ${stageElements * elementBytes}-byte buffer`);
  }

  append(values: ArrayBufferView): void {
    const bytes = asBytes(values);
    const elements = bytes.byteLength / this.elementBytes;
    let done = 0;
    while (done < elements) {
      const take = Math.min(elements - done, this.stageElements - this.filled);
      const source = bytes.subarray(done * this.elementBytes, (done + take) * this.elementBytes);
      this.module.HEAPU8.set(source, this.pointer + this.filled * this.elementBytes);
      this.filled += take;
      done += take;
      if (this.filled === this.stageElements) this.flush();
    }
  }

  private flush(): void {
    if (this.filled === 0) return;
    const newLength = this.length + this.filled;
    if (this.resize) this.module.resize_dataset(this.fileId, this.path, [BigInt(newLength)]);
    this.guard(() => this.module.set_dataset_data(this.fileId, this.path, [BigInt(this.filled)], [BigInt(this.length)], [1n], BigInt(this.pointer)));
    this.length = newLength;
    this.filled = 0;
  }

  /** Writes what is staged and releases the buffer; returns the final length. */
  finish(): number {
    try {
      this.flush();
    } finally {
      this.release();
    }
    return this.length;
  }

  /** Frees the staging buffer (idempotent; also used when a write is abandoned). */
  release(): void {
    if (this.pointer) this.module._free(this.pointer);
    this.pointer = 0;
  }
}

const DTYPE_BY_CONSTRUCTOR = new Map<unknown, NumericDtype>([
  [Int8Array, 'int8'],
  [Int16Array, 'int16'],
  [Int32Array, 'int32'],
  [BigInt64Array, 'int64'],
  [Uint8Array, 'uint8'],
  [Uint16Array, 'uint16'],
  [Uint32Array, 'uint32'],
  [BigUint64Array, 'uint64'],
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
]);

/** The dtype a typed array holds. */
export function dtypeOf(values: NumericArray): NumericDtype {
  const dtype = DTYPE_BY_CONSTRUCTOR.get(values.constructor);
  if (!dtype) throw new Error(`unsupported array type ${values.constructor.name}`);
  return dtype;
}

/** `values` as a typed array of `dtype` (the same array when it already is one). */
export function toDtype(values: NumericArray, dtype: NumericDtype): NumericArray {
  const Target = typedArrayConstructor(dtype);
  if (values instanceof (Target as unknown as typeof Int8Array)) return values;
  const isBigTarget = dtype === 'int64' || dtype === 'uint64';
  const isBigSource = values instanceof BigInt64Array || values instanceof BigUint64Array;
  const out = new Target(values.length);
  if (isBigTarget === isBigSource) {
    out.set(values as never);
  } else if (isBigTarget) {
    const source = values as Exclude<NumericArray, BigInt64Array | BigUint64Array>;
    const target = out as BigInt64Array | BigUint64Array;
    for (let i = 0; i < source.length; i++) target[i] = BigInt(Math.trunc(source[i]));
  } else {
    const source = values as BigInt64Array | BigUint64Array;
    const target = out as Exclude<NumericArray, BigInt64Array | BigUint64Array>;
    for (let i = 0; i < source.length; i++) target[i] = Number(source[i]);
  }
  return out;
}
