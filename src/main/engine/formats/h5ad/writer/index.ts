// Writes an AnnData to .h5ad in the anndata 0.8+ on-disk layout (encoding
// attributes on every element, vlen UTF-8 strings, CSR matrices streamed from
// row blocks) so that anndata and scanpy read it back with the same values.
//
// An uncompressed or gzip file is written in one pass without the HDF5 library
// (writer/hdf5-file.ts, deflate by Node's zlib). An lzf one needs h5py's lzf
// filter, so h5wasm writes it, in two passes because h5wasm cannot create HDF5 booleans (see
// writer/hdf5-bool.ts): pass 1 writes the small elements (obs, var, uns, raw/var)
// with boolean stand-ins, which are then converted in place to h5py's boolean
// enum; pass 2 reopens the file and streams the matrices. Everything goes to
// `<path>.partial`, renamed over `path` only when complete.
import { renameSync, rmSync } from 'node:fs';
import { CellarError, isDiskFull } from '../../../../../shared/errors';
import { h5ErrorReason, loadH5wasm, type H5wasm } from '../h5';
import type { DataFrame, NumericArray } from '../../../columns/column-model';
import type { AnnDataToWrite, H5adFile, MatrixHandle, MatrixSource } from '../types';
import { H5Output, IncompressibleDataset, type H5Sink, type OutputCompression, type OutputOptions } from './h5-output';
import { DirectOutput } from './direct-output';
import { Hdf5File, NeedsHdf5Library } from './hdf5-file';
import { convertBoolPlaceholders } from './hdf5-bool';
import { writeCsrMatrix, type CsrMatrixToWrite } from './csr';
import { checkName, displayPath, tagEncoding, writeDataFrame, writeDense, writeDictGroup, writeUnsDict, writing, type WriteContext } from './elements';

export interface WriteH5adOptions {
  /** gzip (level 1) or lzf on numeric datasets and matrices; default 'none' (what anndata writes by default). */
  compression?: OutputCompression;
  /**
   * String columns with missing values: 'categorical' (default; every anndata
   * reads it, missing = code −1) or 'nullable-string-array' (exact kind, but
   * only anndata ≥ 0.11 reads it).
   */
  nullableStrings?: 'categorical' | 'nullable-string-array';
  signal?: AbortSignal;
  /**
   * Progress in matrix rows written (X, layers and raw.X together), and which matrix is being
   * written with the rows of it done so far.
   */
  onProgress?: (done: number, total: number, matrix?: { path: string; rows: number; nRows: number }) => void;
}

// v1.8 format bounds: readable by HDF5 ≥ 1.8 (h5py, R, Julia), and the datatype
// encoding the boolean conversion relies on.
const LIBVER: ['v108', 'v108'] = ['v108', 'v108'];

export async function writeH5ad(path: string, adata: AnnDataToWrite, options: WriteH5adOptions = {}): Promise<void> {
  // lzf refuses data it cannot shrink (h5py would store it as is): write again without
  // compression for that dataset. Each round adds one dataset, so this ends.
  const uncompressed = new Set<string>();
  let library = false;
  for (;;) {
    try {
      return await writeH5adOnce(path, adata, options, uncompressed, library);
    } catch (err) {
      // An uncompressed file the direct writer cannot lay out is written by the HDF5 library.
      if (err instanceof NeedsHdf5Library && !library) {
        library = true;
        continue;
      }
      if (!(err instanceof IncompressibleDataset) || uncompressed.has(err.datasetPath)) throw err;
      uncompressed.add(err.datasetPath);
    }
  }
}

async function writeH5adOnce(path: string, adata: AnnDataToWrite, options: WriteH5adOptions, uncompressed: ReadonlySet<string>, library: boolean): Promise<void> {
  checkShapes(adata);
  throwIfAborted(options.signal);
  const compression = options.compression ?? 'none';
  // Uncompressed and gzip files are written directly; lzf needs h5wasm's filter plugin.
  const h5 = compression !== 'lzf' && !library ? null : await loadH5wasm();
  const partial = `${path}.partial`;
  const matrices = streamedMatrices(adata);
  const nObs = adata.obs.index.length;
  const total = matrices.length * nObs;
  let done = 0;
  options.onProgress?.(0, total);
  const elementOptions = { nullableStrings: options.nullableStrings ?? 'categorical' } as const;
  const outputOptions = { compression, uncompressed };

  const writeElements = async (out: H5Sink) => {
    const ctx = context(out, elementOptions, options.signal);
    writing('/', () => tagEncoding(out, '/', 'anndata', '0.1.0'));
    writeDataFrame(ctx, '/obs', adata.obs);
    writeDataFrame(ctx, '/var', adata.var);
    for (const name of ['obsm', 'varm', 'obsp', 'varp', 'layers']) writeDictGroup(ctx, `/${name}`);
    await writeUnsDict(ctx, '/uns', adata.uns ?? {});
    if (adata.raw) {
      writing('/raw', () => {
        out.group('/raw');
        tagEncoding(out, '/raw', 'raw', '0.1.0');
      });
      writeDataFrame(ctx, '/raw/var', adata.raw.var);
      writeDictGroup(ctx, '/raw/varm');
    }
    return out.boolPlaceholders;
  };
  const writeMatrices = async (out: H5Sink) => {
    const ctx = context(out, elementOptions, options.signal);
    for (const { path: matrixPath, source } of matrices) {
      const startedAt = done;
      await writeCsrMatrix(out, matrixPath, source, {
        signal: options.signal,
        onRows: (rows) => {
          done = startedAt + rows;
          options.onProgress?.(done, total, { path: matrixPath, rows, nRows: nObs });
        },
      });
      done = startedAt + nObs;
    }
    for (const [name, dense] of adata.obsm ?? []) writeDense(ctx, `/obsm/${name}`, dense.shape, dense.values);
    for (const [name, dense] of adata.varm ?? []) writeDense(ctx, `/varm/${name}`, dense.shape, dense.values);
    for (const [name, dense] of adata.raw?.varm ?? []) writeDense(ctx, `/raw/varm/${name}`, dense.shape, dense.values);
  };

  try {
    rmSync(partial, { force: true });
    if (h5 === null) {
      await withDirectOutput(partial, outputOptions, async (out) => {
        await writeElements(out);
        await writeMatrices(out);
      });
    } else {
      const placeholders = await withOutput(h5, partial, 'w', outputOptions, writeElements);
      throwIfAborted(options.signal);
      try {
        convertBoolPlaceholders(partial, placeholders);
      } catch (err) {
        throw new CellarError('internal', `Could not store booleans as HDF5 booleans in ${partial}: ${(err as Error).message}`);
      }
      await withOutput(h5, partial, 'a', outputOptions, writeMatrices);
    }
    throwIfAborted(options.signal);
    renameSync(partial, path);
    options.onProgress?.(total, total);
  } catch (err) {
    rmSync(partial, { force: true });
    if (err instanceof CellarError || err instanceof NeedsHdf5Library) throw err;
    if (isDiskFull(err)) throw new CellarError('no_space', `The disk is full: could not write ${path} (nothing was left behind).`);
    throw new CellarError('io_error', `Could not write ${path}: ${h5ErrorReason(err)}`);
  }
}

function context(out: H5Sink, options: WriteContext['options'], signal?: AbortSignal): WriteContext {
  return {
    out,
    options,
    writeMatrix: (path, handle) => writeCsrMatrix(out, path, matrixFromHandle(handle), { signal }),
  };
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CellarError('cancelled', 'Writing the h5ad file was cancelled.');
}

/** Opens the file, hands it to `write`, and always closes it. */
async function withOutput<T>(
  h5: H5wasm,
  path: string,
  mode: 'w' | 'a',
  options: { compression: OutputCompression; uncompressed: ReadonlySet<string> },
  write: (out: H5Sink) => Promise<T>,
): Promise<T> {
  let file: InstanceType<H5wasm['File']>;
  try {
    file = new h5.File(path, mode, { libver: LIBVER });
  } catch (err) {
    throw new CellarError('io_error', `Could not ${mode === 'w' ? 'create' : 'reopen'} ${path}: ${h5ErrorReason(err)}`);
  }
  try {
    return await write(new H5Output(h5.Module, file, options));
  } finally {
    file.close();
  }
}

/** Creates the file, hands it to `write`, and closes it (finished only when `write` succeeds). */
async function withDirectOutput(path: string, options: OutputOptions, write: (out: H5Sink) => Promise<void>): Promise<void> {
  let file: Hdf5File;
  try {
    file = new Hdf5File(path);
  } catch (err) {
    throw new CellarError('io_error', `Could not create ${path}: ${h5ErrorReason(err)}`);
  }
  try {
    await write(new DirectOutput(file, options));
    file.close();
  } finally {
    file.abandon();
  }
}

function streamedMatrices(adata: AnnDataToWrite): { path: string; source: CsrMatrixToWrite }[] {
  const matrices: { path: string; source: CsrMatrixToWrite }[] = [];
  if (adata.X) matrices.push({ path: '/X', source: adata.X });
  for (const [name, layer] of adata.layers ?? []) matrices.push({ path: `/layers/${name}`, source: layer });
  if (adata.raw?.X) matrices.push({ path: '/raw/X', source: adata.raw.X });
  return matrices;
}

function shapeError(path: string, actual: readonly number[], expected: readonly number[]): CellarError {
  return new CellarError(
    'shape_mismatch',
    `Cannot write ${displayPath(path)}: its shape is ${actual.join(' × ')} but obs/var give ${expected.join(' × ')}.`,
  );
}

/** Every matrix and embedding must agree with obs / var (and have a usable name) before anything is written. */
function checkShapes(adata: AnnDataToWrite): void {
  const nObs = adata.obs.index.length;
  const nVars = adata.var.index.length;
  for (const [parent, entries] of [['/layers', adata.layers], ['/obsm', adata.obsm], ['/varm', adata.varm]] as const) {
    for (const name of entries?.keys() ?? []) checkName(parent, name);
  }
  const checkMatrix = (path: string, m: MatrixSource | null | undefined, cols: number) => {
    if (m && (m.shape[0] !== nObs || m.shape[1] !== cols)) throw shapeError(path, m.shape, [nObs, cols]);
  };
  checkMatrix('/X', adata.X, nVars);
  for (const [name, layer] of adata.layers ?? []) checkMatrix(`/layers/${name}`, layer, nVars);
  if (adata.raw) checkMatrix('/raw/X', adata.raw.X, adata.raw.var.index.length);
  for (const name of adata.raw?.varm?.keys() ?? []) checkName('/raw/varm', name);
  for (const [axis, entries, rows] of [['obsm', adata.obsm, nObs], ['varm', adata.varm, nVars], ['raw/varm', adata.raw?.varm, adata.raw?.var.index.length ?? 0]] as const) {
    for (const [name, dense] of entries ?? []) {
      if (dense.shape.length !== 2 || dense.shape[0] !== rows) {
        throw new CellarError('shape_mismatch', `Cannot write ${axis}/${name}: its shape is ${dense.shape.join(' × ')} but it needs ${rows} rows.`);
      }
    }
  }
}

function matrixFromHandle(handle: MatrixHandle): CsrMatrixToWrite {
  return {
    shape: handle.shape,
    dtype: handle.dtype,
    nnz: handle.encoding === 'array' ? undefined : handle.nnz,
    rowBlocks: () => handle.rowBlocks(),
  };
}

/**
 * What an open h5ad becomes when written again: obs, var, X, layers, dense
 * obsm/varm, uns, raw.X and raw.var. Elements the writer's input cannot hold
 * (obsp, varp, obsm/varm/raw.varm that are sparse or dataframes) are listed
 * in `dropped`; a boolean matrix becomes uint8.
 */
export function annDataFromH5ad(file: H5adFile): { adata: AnnDataToWrite; dropped: string[] } {
  const dropped: string[] = [];
  const source = (handle: MatrixHandle, path: string): MatrixSource => {
    if (handle.dtype === 'bool') dropped.push(`${path} is boolean and is written as uint8`);
    return {
      shape: handle.shape,
      dtype: handle.dtype === 'bool' ? 'uint8' : handle.dtype,
      nnz: handle.encoding === 'array' ? undefined : handle.nnz,
      rowBlocks: () => handle.rowBlocks(),
    };
  };
  const dense = (axis: string, entries: H5adFile['obsm']) => {
    const kept = new Map<string, { shape: [number, number]; values: NumericArray }>();
    for (const [name, entry] of entries) {
      if ('read' in entry && entry.shape.length === 2 && entry.dtype !== 'string') {
        const values = entry.read();
        if (!Array.isArray(values)) {
          kept.set(name, { shape: [entry.shape[0], entry.shape[1]], values });
          continue;
        }
      }
      dropped.push(`${axis}/${name}`);
    }
    return kept;
  };
  for (const name of file.obsp.keys()) dropped.push(`obsp/${name}`);
  for (const name of file.varp.keys()) dropped.push(`varp/${name}`);

  const layers = new Map<string, MatrixSource>();
  for (const [name, handle] of file.layers) layers.set(name, source(handle, `layers/${name}`));
  const adata: AnnDataToWrite = {
    obs: file.obs,
    var: file.var,
    X: file.X ? source(file.X, 'X') : null,
    layers,
    obsm: dense('obsm', file.obsm),
    varm: dense('varm', file.varm),
    uns: file.readUns(),
    raw: file.raw ? { X: file.raw.X ? source(file.raw.X, 'raw/X') : null, var: file.raw.var as DataFrame, varm: dense('raw/varm', file.raw.varm) } : null,
  };
  return { adata, dropped };
}
