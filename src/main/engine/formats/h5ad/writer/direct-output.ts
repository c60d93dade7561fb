// The h5ad writer's HDF5 primitives written straight to the file (hdf5-file.ts):
// no WebAssembly heap to copy through, no HDF5 library to start, real HDF5
// booleans in one pass, and no 2 GiB bound on a dataset. Uncompressed datasets
// are contiguous, except a sparse matrix's arrays, chunked and resizable as
// anndata writes them; gzip ones are chunked as the HDF5 library would chunk
// them and deflated by Node's zlib. lzf output goes through h5wasm (h5-output.ts).
import { promisify } from 'node:util';
import { deflate, deflateSync } from 'node:zlib';
import type { NumericArray } from '../../../columns/column-model';
import {
  asBytes,
  bytesPerElement,
  checkNoNul,
  chunkShape,
  CHUNK_BYTES,
  dtypeOf,
  GZIP_LEVEL,
  product,
  type AppendableSink,
  type ArrayDtype,
  type H5Sink,
  type OutputOptions,
  type RecordField,
} from './h5-output';
import { deflatePipelineMessage, shuffleBytes, VLEN_REFERENCE_BYTES, type H5Datatype } from './hdf5-format';
import { Hdf5File } from './hdf5-file';

function datatypeOf(dtype: ArrayDtype): H5Datatype {
  if (dtype === 'bool') return { kind: 'bool' };
  if (dtype === 'float32') return { kind: 'float', size: 4 };
  if (dtype === 'float64') return { kind: 'float', size: 8 };
  return { kind: 'int', size: bytesPerElement(dtype) as 1 | 2 | 4 | 8, signed: dtype.startsWith('int') };
}

const VLEN_STRING: H5Datatype = { kind: 'vlen-string' };

export class DirectOutput implements H5Sink {
  readonly boolPlaceholders = 0;

  constructor(
    private readonly file: Hdf5File,
    private readonly options: OutputOptions = { compression: 'none' },
  ) {
    if (options.compression === 'lzf') throw new Error('lzf output is written through the HDF5 library');
  }

  private compresses(path: string): boolean {
    return this.options.compression === 'gzip' && !this.options.uncompressed?.has(path);
  }

  group(path: string): void {
    this.file.group(path);
  }

  stringAttribute(path: string, name: string, value: string): void {
    checkNoNul(`${path}@${name}`, [value]);
    this.file.stringAttribute(path, name, null, [value]);
  }

  stringArrayAttribute(path: string, name: string, values: readonly string[]): void {
    // As h5py stores an empty list: an empty float64 array.
    if (values.length === 0) return this.numericAttribute(path, name, new Float64Array(0), [0]);
    checkNoNul(`${path}@${name}`, values);
    this.file.stringAttribute(path, name, [values.length], values);
  }

  numericAttribute(path: string, name: string, values: NumericArray, shape: number[]): void {
    this.file.attribute(path, name, datatypeOf(dtypeOf(values)), shape, asBytes(values));
  }

  boolAttribute(path: string, name: string, value: boolean): void {
    this.file.attribute(path, name, { kind: 'bool' }, null, Uint8Array.of(value ? 1 : 0));
  }

  strings(path: string, values: readonly string[], shape: number[] = [values.length]): void {
    if (product(shape) !== values.length) throw new Error(`${values.length} strings do not fill shape [${shape}]`);
    checkNoNul(path, values);
    this.file.strings(path, shape.length ? shape : null, values);
  }

  array(path: string, values: NumericArray, dtype: ArrayDtype, shape: number[] = [values.length]): void {
    if (product(shape) !== values.length) throw new Error(`${values.length} values do not fill shape [${shape}]`);
    const bytes = asBytes(values);
    if (bytes.byteLength !== values.length * bytesPerElement(dtype)) throw new Error(`${path}: ${values.constructor.name} values for a ${dtype} dataset`);
    if (!this.compresses(path) || shape.length === 0 || values.length === 0) {
      this.file.dataset(path, datatypeOf(dtype), shape.length ? shape : null, bytes);
      return;
    }
    const chunk = chunkShape(shape, bytesPerElement(dtype)).map(Number);
    const chunkBytes = product(chunk) * bytesPerElement(dtype);
    const shuffle = shuffleSize(dtype);
    const chunks = this.file.chunked(path, datatypeOf(dtype), chunk, deflatePipelineMessage(GZIP_LEVEL, shuffle));
    for (let at = 0; at < bytes.byteLength; at += chunkBytes) {
      const whole = wholeChunk(bytes.subarray(at, at + chunkBytes), chunkBytes);
      chunks.add(at / chunkBytes, deflateSync(shuffle ? shuffleBytes(whole, shuffle) : whole, { level: GZIP_LEVEL }));
    }
    chunks.finish(shape);
  }

  records(path: string, rows: number, fields: RecordField[]): void {
    const layout = fields.map((field) => ({ field, size: field.kind === 'string' ? VLEN_REFERENCE_BYTES : bytesPerElement(field.dtype) }));
    const members: { name: string; offset: number; type: H5Datatype }[] = [];
    let size = 0;
    for (const { field, size: fieldSize } of layout) {
      members.push({ name: field.name, offset: size, type: field.kind === 'string' ? VLEN_STRING : datatypeOf(field.dtype) });
      size += fieldSize;
    }
    const strings: string[] = [];
    for (const { field } of layout) {
      if (field.kind !== 'string') continue;
      if (field.values.length !== rows) throw new Error(`${path}/${field.name} has ${field.values.length} values for ${rows} records`);
      checkNoNul(`${path}/${field.name}`, field.values);
      for (const value of field.values) strings.push(value);
    }
    this.file.records(path, { kind: 'compound', size: Math.max(1, size), members }, rows, strings, (references) => {
      const out = new Uint8Array(rows * Math.max(1, size));
      let stringField = 0;
      layout.forEach(({ field, size: fieldSize }, f) => {
        const offset = members[f].offset;
        const source = field.kind === 'string' ? references.subarray(stringField++ * rows * VLEN_REFERENCE_BYTES) : asBytes(field.values);
        for (let row = 0; row < rows; row++) out.set(source.subarray(row * fieldSize, (row + 1) * fieldSize), row * size + offset);
      });
      return out;
    });
  }

  /**
   * Always chunked and resizable (maximum shape unlimited), as anndata writes a sparse matrix's
   * arrays: anndata's backed append can then grow an exported matrix.
   */
  appendable(path: string, dtype: ArrayDtype, maxLength?: number, exactLength?: number): AppendableSink {
    return this.chunkedAppendable(path, dtype, this.compresses(path), maxLength, exactLength);
  }

  /**
   * Chunks of about CHUNK_BYTES (fewer when the length or its bound is smaller, so a small
   * matrix is not one large padded chunk). Deflated ones are deflated in the thread pool as each
   * fills, a few at a time, while the caller goes on; `finish` waits for the last.
   */
  private chunkedAppendable(path: string, dtype: ArrayDtype, deflated: boolean, maxLength?: number, exactLength?: number): AppendableSink {
    const elementBytes = bytesPerElement(dtype);
    const known = exactLength !== undefined && exactLength > 0;
    const bound = known ? exactLength : Math.max(1, maxLength ?? Infinity);
    const largest = Math.max(1, Math.floor(CHUNK_BYTES / elementBytes));
    // A known length is cut into equal chunks (the last one padded by less than a value a chunk).
    const chunkElements = known ? Math.ceil(bound / Math.ceil(bound / largest)) : Math.min(bound, largest);
    const chunkBytes = chunkElements * elementBytes;
    const shuffle = deflated ? shuffleSize(dtype) : undefined;
    const chunks = this.file.chunked(path, datatypeOf(dtype), [chunkElements], deflated ? deflatePipelineMessage(GZIP_LEVEL, shuffle) : null);
    let stage = new Uint8Array(chunkBytes);
    let filled = 0;
    let length = 0;
    let submitted = 0;
    let failure: { error: unknown } | null = null;
    let released = false;
    const inFlight = new Set<Promise<void>>();
    const check = () => {
      if (failure) throw failure.error;
    };
    // A raw chunk is written at once; a deflated one is ours (the stage, replaced after): the
    // caller may reuse its buffers either way.
    const submit = async (chunk: Uint8Array) => {
      const index = submitted++;
      if (!deflated) {
        chunks.add(index, chunk);
        return;
      }
      // Never rejects: a failure (of the deflate, or of the write after it, e.g. a full disk) is
      // kept and thrown to the caller at its next append or finish.
      const done = deflateAsync(shuffle ? shuffleBytes(chunk, shuffle) : chunk, { level: GZIP_LEVEL }).then(
        (compressed) => {
          if (released || failure) return;
          try {
            chunks.add(index, compressed);
          } catch (error) {
            failure = { error };
          }
        },
        (error: unknown) => {
          failure ??= { error };
        },
      );
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done));
      while (inFlight.size >= DEFLATES_IN_FLIGHT) await Promise.race(inFlight);
      check();
    };
    return {
      append: async (values) => {
        check();
        const bytes = asBytes(values);
        if (bytes.byteLength % elementBytes !== 0) throw new Error(`${path}: ${bytes.byteLength} bytes are not whole ${dtype} values`);
        if (exactLength !== undefined && length + bytes.byteLength / elementBytes > exactLength) throw new Error(`${path} gets more than its ${exactLength} values`);
        length += bytes.byteLength / elementBytes;
        for (let done = 0; done < bytes.byteLength; ) {
          if (!deflated && filled === 0 && bytes.byteLength - done >= chunkBytes) {
            // At a chunk's start with a whole chunk in hand: written from the caller's bytes
            // (before append returns), not copied through the stage.
            await submit(bytes.subarray(done, done + chunkBytes));
            done += chunkBytes;
            continue;
          }
          const take = Math.min(bytes.byteLength - done, chunkBytes - filled);
          stage.set(bytes.subarray(done, done + take), filled);
          filled += take;
          done += take;
          if (filled === chunkBytes) {
            // A raw chunk is written at once and the stage reused; a deflated one keeps it until
            // its deflate is done, so the next chunk gets a new stage.
            const full = stage;
            if (deflated) stage = new Uint8Array(chunkBytes);
            filled = 0;
            await submit(full);
          }
        }
      },
      finish: async () => {
        check();
        if (exactLength !== undefined && length !== exactLength) throw new Error(`${path} got ${length} of its ${exactLength} values`);
        // A short last chunk is stored whole, the rest zeros (HDF5's fill value).
        if (filled > 0) await submit(stage.fill(0, filled));
        filled = 0;
        await Promise.all(inFlight);
        check();
        chunks.finish([length], [null]);
        return length;
      },
      release: () => {
        released = true;
      },
    };
  }
}

/**
 * Integers of 2+ bytes are shuffled before deflate: their high bytes (mostly zeros for column
 * indices, offsets and codes) then come in long runs, which deflate compresses faster and
 * smaller (X's int32 indices, 1 MiB chunks: 0.43 → 0.27 of their size, deflate 1.5× faster).
 * Floats are not: their bytes shuffled shrink a tenth and deflate slower.
 */
function shuffleSize(dtype: ArrayDtype): number | undefined {
  if (dtype === 'bool' || dtype.startsWith('float')) return undefined;
  const size = bytesPerElement(dtype);
  return size > 1 ? size : undefined;
}

/** Chunks being deflated at once for one dataset (each ~1 MiB). */
const DEFLATES_IN_FLIGHT = 4;
const deflateAsync = promisify(deflate);

/** A short last chunk padded with zeros to a whole one, as HDF5 stores it. */
function wholeChunk(bytes: Uint8Array, chunkBytes: number): Uint8Array {
  if (bytes.byteLength === chunkBytes) return bytes;
  const whole = new Uint8Array(chunkBytes);
  whole.set(bytes);
  return whole;
}
