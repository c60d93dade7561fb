// Loads h5wasm (Node build, host filesystem through NODERAWFS) once, installs the
// compression plugins from h5wasm-plugins, and turns on the throwing error
// handler so HDF5 failures surface as exceptions instead of silent zeros.
// Also holds the few low-level helpers every h5ad reader needs (attributes,
// dataset metadata, typed reads), so no other module touches h5wasm internals.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Dataset, Group, Metadata } from 'h5wasm';
import { preparePluginDir } from './h5-plugins';
import type { NumericArray, NumericDtype } from '../../columns/column-model';

export type H5wasm = typeof import('h5wasm');
export type H5File = InstanceType<H5wasm['File']>;
export type { Dataset as H5Dataset, Group as H5Group, Metadata as H5Metadata };

let loading: Promise<H5wasm> | null = null;
let loaded: H5wasm | null = null;

export function loadH5wasm(): Promise<H5wasm> {
  if (!loading) loading = initialise();
  return loading;
}

/**
 * Starts loading h5wasm without waiting for it: its WebAssembly compiles on V8's background
 * threads while the caller does other work. A failure reaches whoever awaits loadH5wasm().
 */
export function startLoadingH5wasm(): void {
  loadH5wasm().catch(() => undefined);
}

/**
 * For a one-shot command whose only HDF5 reads are files' summaries (`cellar inspect`, `cellar
 * import` of .h5ad files): V8's baseline WebAssembly code alone, without its optimising compiler
 * at work beside it. A summary runs each HDF5 function a few times, so optimising them costs
 * more than it saves (a 5,000-cell file's inspect: 220 → 175 ms; a 2.4 GB file's: the same).
 * Process-wide and for good, so never where a matrix is read through (concatenate, append, an
 * export); it takes effect for h5ad loaded after it, in any thread.
 */
export function preferBaselineWasm(): void {
  setFlagsFromString('--liftoff-only');
}

async function initialise(): Promise<H5wasm> {
  // Loaded with require (Node ≥ 20.19 loads ES modules synchronously) rather than
  // import(): under tsx's loader hooks the 4 MB module takes ~20 s to import, ~0.7 s this way.
  const entry = h5wasmEntry();
  // The HDF5 module keeps the console.error it finds when it loads and prints "Aborted(…)"
  // with it before throwing; the throw becomes a message that names the element, so that
  // line would only reach the user first. It gets a console.error without it.
  const consoleError = console.error;
  console.error = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('Aborted(')) return;
    consoleError.apply(console, args);
  };
  // (It binds console.error while it initialises, so the filter stays until it is ready.)
  let h5: H5wasm;
  let module: Awaited<H5wasm['ready']>;
  try {
    h5 = createRequire(import.meta.url)(entry) as H5wasm;
    module = await h5.ready;
  } finally {
    console.error = consoleError;
  }
  module.activate_throwing_error_handler();
  installPlugins(module);
  loaded = h5;
  return h5;
}

/**
 * The built code has a copy of h5wasm beside it whose WebAssembly is a file of its own
 * (electron.vite.config.ts), which starts ~50 ms sooner than the package's inlined one;
 * code run from source uses the package.
 */
function h5wasmEntry(): string {
  const beside = fileURLToPath(new URL('./h5wasm/hdf5_hl.js', import.meta.url));
  return existsSync(beside) ? beside : fileURLToPath(import.meta.resolve('h5wasm/node'));
}

function installPlugins(module: Awaited<H5wasm['ready']>): void {
  const require = createRequire(import.meta.url);
  const packagedDir = join(dirname(require.resolve('h5wasm-plugins/package.json')), 'plugins');
  // NODERAWFS maps the wasm filesystem onto the host one, so a host folder works as a search path.
  module.insert_plugin_search_path(preparePluginDir(packagedDir), 0);
}

function h5(): H5wasm {
  if (!loaded) throw new Error('h5wasm is not loaded: call loadH5wasm() first');
  return loaded;
}

// HDF5 type classes as h5wasm reports them in Metadata.type.
export const H5T = {
  integer: 0,
  float: 1,
  string: 3,
  compound: 6,
  reference: 7,
  enum: 8,
  vlen: 9,
  array: 10,
} as const;

/** The last "in Function(): reason" line of an HDF5 error stack: the most specific cause. */
export function h5ErrorReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // A trap inside the HDF5 library itself (abort, out-of-bounds access) only happens on damaged data.
  if (err instanceof WebAssembly.RuntimeError || message.startsWith('Aborted(')) {
    return 'the data is damaged (the HDF5 library stopped while decoding it)';
  }
  const reasons = [...message.matchAll(/#\d+:.*? in [\w.]+\(\): (.+)$/gm)].map((m) => m[1].trim());
  if (reasons.length) return reasons[reasons.length - 1];
  const firstLine = message.split('\n').find((line) => line.trim()) ?? message;
  return firstLine.trim();
}

/**
 * Attribute names, asked of HDF5 once per node object (each ask costs 40–500 µs, and reading an
 * element's encoding asks several times). Files are read-only while read, so names never change
 * under a node; a node got again by path asks again.
 */
const attributeNamesOf = new WeakMap<Group | Dataset, string[]>();

export function attributeNames(node: Group | Dataset): string[] {
  let names = attributeNamesOf.get(node);
  if (!names) {
    names = h5().Module.get_attribute_names(node.file_id, node.path);
    attributeNamesOf.set(node, names);
  }
  return names;
}

/** Reads an attribute as h5wasm returns it (typed array, string, number, references…), or undefined if absent. */
export function readAttribute(node: Group | Dataset, name: string): unknown {
  if (!attributeNames(node).includes(name)) return undefined;
  return node.get_attribute(name, false);
}

export function readStringAttribute(node: Group | Dataset, name: string): string | undefined {
  const value = readAttribute(node, name);
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
  return undefined;
}

export function isGroup(node: unknown): node is Group {
  return node instanceof h5().Group;
}

export function isDataset(node: unknown): node is Dataset {
  return node instanceof h5().Dataset;
}

/** h5py stores numpy bools as an enum {FALSE: 0, TRUE: 1}. */
export function isBoolEnum(meta: Metadata): boolean {
  if (meta.type !== H5T.enum || !meta.enum_type) return false;
  const members = meta.enum_type.members;
  const names = Object.keys(members);
  return names.length === 2 && members.FALSE === 0 && members.TRUE === 1;
}

/** The element type behind a dataset: numeric dtype, 'bool', 'string', or 'other' (compound, references, …). */
export function elementDtype(meta: Metadata): NumericDtype | 'bool' | 'string' | 'other' {
  if (meta.type === H5T.string) return 'string';
  if (meta.type === H5T.enum) {
    if (isBoolEnum(meta)) return 'bool';
    const base = meta.enum_type!.type;
    return base === H5T.integer ? intDtype(meta.size, meta.signed) : 'other';
  }
  if (meta.type === H5T.integer) return intDtype(meta.size, meta.signed);
  if (meta.type === H5T.float) {
    if (meta.size === 4) return 'float32';
    if (meta.size === 8) return 'float64';
    return 'other';
  }
  return 'other';
}

function intDtype(size: number, signed: boolean): NumericDtype {
  const bits = size * 8;
  return `${signed ? 'int' : 'uint'}${bits}` as NumericDtype;
}

/** Dataspace dimensions; [] for a scalar, null for an empty (H5S_NULL) dataspace. */
export function datasetShape(ds: Dataset): number[] | null {
  const shape = ds.metadata.shape;
  return shape ? shape.map(Number) : null;
}

function checkByteOrder(ds: Dataset): void {
  const meta = ds.metadata;
  if ((meta.type === H5T.integer || meta.type === H5T.float) && meta.size > 1 && !meta.littleEndian) {
    throw new Error('big-endian numbers are not supported');
  }
}

/** Reads a whole numeric (or enum) dataset as a typed array (flattened, row-major). */
export function readNumeric(ds: Dataset): NumericArray {
  checkByteOrder(ds);
  const shape = datasetShape(ds);
  if (shape && shape.some((d) => d === 0)) return emptyTypedArray(ds.metadata);
  const value = ds.value;
  if (!ArrayBuffer.isView(value)) throw new Error('expected numeric data');
  return value as NumericArray;
}

/** Reads rows [start, end) of the first dimension of a numeric dataset (all other dimensions whole). */
export function readNumericRows(ds: Dataset, start: number, end: number): NumericArray {
  checkByteOrder(ds);
  const shape = datasetShape(ds) ?? [];
  if (end <= start || shape.slice(1).some((d) => d === 0)) return emptyTypedArray(ds.metadata);
  const ranges = shape.map((_, i) => (i === 0 ? [start, end] : [])) as [number, number][];
  const value = ds.slice(ranges);
  if (!ArrayBuffer.isView(value)) throw new Error('expected numeric data');
  return value as NumericArray;
}

/** Reads a string dataset (vlen UTF-8/ASCII or fixed-length, NUL padding stripped), optionally rows [start, end). */
export function readStrings(ds: Dataset, start?: number, end?: number): string[] {
  const shape = datasetShape(ds);
  if (!shape) return [];
  const ranged = start !== undefined && end !== undefined && shape.length > 0;
  const dims = ranged ? [end! - start!, ...shape.slice(1)] : shape;
  if (dims.some((d) => d <= 0)) return [];
  if (ds.metadata.vlen) return readVlenStrings(ds, shape, ranged ? start! : 0, dims);
  if (shape.length === 0) return [ds.value as string];
  if (!ranged) return ds.value as string[];
  return ds.slice(shape.map((_, i) => (i === 0 ? [start!, end!] : [])) as [number, number][]) as string[];
}

/**
 * Variable-length strings, read into a zeroed buffer: h5wasm's own reader
 * reclaims an uninitialised buffer when a read fails (e.g. a filter error),
 * which frees garbage pointers and aborts the whole module.
 */
function readVlenStrings(ds: Dataset, shape: number[], start: number, dims: number[]): string[] {
  const module = h5().Module as unknown as VlenModule;
  const total = dims.reduce((a, b) => a * b, 1);
  const count = dims.map(BigInt);
  const offset = shape.map((_, i) => BigInt(i === 0 ? start : 0));
  const strides = shape.map(() => 1n);
  const pointers = module._calloc(total, 4);
  if (!pointers) throw new Error(`could not allocate ${total * 4} bytes`);
  try {
    if (shape.length === 0) module.get_dataset_data(ds.file_id, ds.path, null, null, null, BigInt(pointers));
    else module.get_dataset_data(ds.file_id, ds.path, count, offset, strides, BigInt(pointers));
    return decodeCStrings(module.HEAPU8, new Uint32Array(module.HEAPU8.buffer, pointers, total), ds.metadata.cset === 1);
  } finally {
    if (shape.length === 0) module.reclaim_vlen_memory(ds.file_id, ds.path, '', BigInt(pointers));
    else module.reclaim_vlen_memory_count(ds.file_id, ds.path, '', BigInt(pointers), count);
    module._free(pointers);
  }
}

/** NUL-terminated strings at the given heap addresses; Node's decoder on a heap view beats UTF8ToString severalfold. */
function decodeCStrings(heapBytes: Uint8Array, pointers: Uint32Array, utf8: boolean): string[] {
  const heap = Buffer.from(heapBytes.buffer, heapBytes.byteOffset, heapBytes.byteLength);
  const encoding = utf8 ? 'utf8' : 'latin1';
  const out = new Array<string>(pointers.length);
  for (let i = 0; i < pointers.length; i++) {
    const at = pointers[i];
    out[i] = at ? heap.toString(encoding, at, heap.indexOf(0, at)) : '';
  }
  return out;
}

interface VlenModule {
  _calloc(count: number, size: number): number;
  _free(pointer: number): void;
  HEAPU8: Uint8Array;
  get_dataset_data(
    fileId: bigint,
    path: string,
    count: bigint[] | null,
    offset: bigint[] | null,
    strides: bigint[] | null,
    pointer: bigint,
  ): number;
  reclaim_vlen_memory(fileId: bigint, path: string, attribute: string, pointer: bigint): number;
  reclaim_vlen_memory_count(fileId: bigint, path: string, attribute: string, pointer: bigint, count: bigint[]): number;
}

export function emptyTypedArray(meta: Metadata): NumericArray {
  const dtype = elementDtype(meta);
  return new (typedArrayConstructor(dtype === 'bool' ? 'uint8' : dtype))(0);
}

type TypedArrayConstructor = { new (length: number): NumericArray; BYTES_PER_ELEMENT: number };

export function typedArrayConstructor(dtype: NumericDtype | 'string' | 'other'): TypedArrayConstructor {
  switch (dtype) {
    case 'int8':
      return Int8Array;
    case 'int16':
      return Int16Array;
    case 'int32':
      return Int32Array;
    case 'int64':
      return BigInt64Array;
    case 'uint8':
      return Uint8Array;
    case 'uint16':
      return Uint16Array;
    case 'uint32':
      return Uint32Array;
    case 'uint64':
      return BigUint64Array;
    case 'float32':
      return Float32Array;
    case 'float64':
      return Float64Array;
    default:
      throw new Error(`no typed array for ${dtype}`);
  }
}
