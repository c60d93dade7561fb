// The h5ad writer's HDF5 primitives written straight to the file (hdf5-file.ts),
// for uncompressed output: no WebAssembly heap to copy through, no HDF5 library
// to start, real HDF5 booleans in one pass, and no 2 GiB bound on a dataset.
// Compressed output goes through h5wasm (h5-output.ts), which has the filters.
import type { NumericArray } from '../../../columns/column-model';
import { asBytes, bytesPerElement, checkNoNul, dtypeOf, product, type AppendableSink, type ArrayDtype, type H5Sink, type RecordField } from './h5-output';
import { VLEN_REFERENCE_BYTES, type H5Datatype } from './hdf5-format';
import { Hdf5File } from './hdf5-file';

export function datatypeOf(dtype: ArrayDtype): H5Datatype {
  if (dtype === 'bool') return { kind: 'bool' };
  if (dtype === 'float32') return { kind: 'float', size: 4 };
  if (dtype === 'float64') return { kind: 'float', size: 8 };
  return { kind: 'int', size: bytesPerElement(dtype) as 1 | 2 | 4 | 8, signed: dtype.startsWith('int') };
}

const VLEN_STRING: H5Datatype = { kind: 'vlen-string' };

export class DirectOutput implements H5Sink {
  readonly boolPlaceholders = 0;

  constructor(private readonly file: Hdf5File) {}

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
    this.file.dataset(path, datatypeOf(dtype), shape.length ? shape : null, bytes);
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
      strings.push(...field.values);
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

  appendable(path: string, dtype: ArrayDtype, _maxLength?: number, exactLength?: number): AppendableSink {
    const type = datatypeOf(dtype);
    const elementBytes = bytesPerElement(dtype);
    if (exactLength === undefined || exactLength === 0) {
      const spill = this.file.spill(path, type);
      return { append: (values) => spill.append(asBytes(values)), finish: spill.finish, release: spill.release };
    }
    // Known length: the dataset's place is reserved now and filled in order (contiguous, as h5py writes it).
    const region = this.file.reserve(path, type, [exactLength]);
    let filled = 0;
    return {
      append: (values) => {
        const bytes = asBytes(values);
        if (bytes.byteLength % elementBytes !== 0) throw new Error(`${path}: ${bytes.byteLength} bytes are not whole ${dtype} values`);
        if (filled + bytes.byteLength / elementBytes > exactLength) throw new Error(`${path} gets more than its ${exactLength} values`);
        region.write(bytes, filled * elementBytes);
        filled += bytes.byteLength / elementBytes;
      },
      finish: () => {
        if (filled !== exactLength) throw new Error(`${path} got ${filled} of its ${exactLength} values`);
        return filled;
      },
      release: () => {},
    };
  }
}
