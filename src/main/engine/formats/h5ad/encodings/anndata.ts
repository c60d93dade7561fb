// `anndata` 0.1.0 (the root group) and `raw` 0.1.0. Reads obs/var eagerly and
// leaves every matrix behind a handle. Also accepts the untagged 0.7 and
// pre-0.7 roots the registry routes here (legacy.ts holds those layouts).
import { CellarError } from '../../../../../shared/errors';
import { isDataset, isGroup } from '../h5';
import { applyUnsCategories, isLegacyCompound, legacyRawPaths, readLegacyAxisArrays, readLegacyFrame } from '../legacy';
import { openDenseMatrix } from '../matrix';
import type { DataFrame } from '../../../columns/column-model';
import type { AnnDataContent, DenseHandle, MatrixHandle, RawHandle } from '../types';
import {
  badElement,
  childPath,
  displayPath,
  notice,
  type Element,
  type EncodingReader,
  type ReadContext,
} from './context';

function readFrame(ctx: ReadContext, path: string): DataFrame {
  const node = ctx.file.get(path);
  if (isLegacyCompound(node)) return readLegacyFrame(ctx, path, node);
  const element = ctx.readElement(path);
  if (element.kind !== 'dataframe') throw badElement(ctx, path, `expected a dataframe, found ${describe(element)}`);
  return element.frame;
}

function describe(element: Element): string {
  return element.kind === 'skipped' ? element.reason : `a ${element.kind}`;
}

/** A 2-d element as a matrix handle (sparse, or dense read in row slices). */
function matrixFromElement(ctx: ReadContext, path: string, element: Element): MatrixHandle | null {
  if (element.kind === 'matrix') return element.handle;
  if (element.kind === 'dense' && element.handle.shape.length === 2 && element.handle.dtype !== 'string') {
    const node = ctx.file.get(path);
    if (isDataset(node)) return openDenseMatrix(ctx, path, node);
  }
  return null;
}

function readMatrix(ctx: ReadContext, path: string): MatrixHandle {
  const element = ctx.readElement(path);
  const handle = matrixFromElement(ctx, path, element);
  if (!handle) throw badElement(ctx, path, `expected a 2-d matrix, found ${describe(element)}`);
  return handle;
}

function shapeMismatch(ctx: ReadContext, path: string, found: readonly number[], expected: string): CellarError {
  return new CellarError(
    'shape_mismatch',
    `${ctx.fileLabel}: ${displayPath(path)} has shape ${found.join(' × ')} but ${expected}`,
  );
}

function childrenOf(ctx: ReadContext, path: string): string[] {
  const node = ctx.file.get(path);
  if (!isGroup(node)) return [];
  const element = ctx.readElement(path);
  if (element.kind !== 'dict') throw badElement(ctx, path, `expected a group of elements, found ${describe(element)}`);
  return element.keys;
}

/** layers: every entry a matrix of exactly nObs × nVars. */
function readLayers(ctx: ReadContext, nObs: number, nVars: number): Map<string, MatrixHandle> {
  const layers = new Map<string, MatrixHandle>();
  for (const key of childrenOf(ctx, '/layers')) {
    const path = childPath('/layers', key);
    const element = ctx.readElement(path);
    if (element.kind === 'skipped') continue;
    const handle = matrixFromElement(ctx, path, element);
    if (!handle) throw badElement(ctx, path, `a layer must be a 2-d matrix, found ${describe(element)}`);
    if (handle.shape[0] !== nObs || handle.shape[1] !== nVars) {
      throw shapeMismatch(ctx, path, handle.shape, `X is ${nObs} × ${nVars}`);
    }
    layers.set(key, handle);
  }
  return layers;
}

type AxisEntry = DenseHandle | MatrixHandle | DataFrame;

/** obsm/varm: arrays, sparse matrices or dataframes with one row per obs/var. */
function readAxisArrays(ctx: ReadContext, path: string, nRows: number, axis: 'obs' | 'var'): Map<string, AxisEntry> {
  const out = new Map<string, AxisEntry>();
  const node = ctx.file.get(path);
  const entries: [string, AxisEntry][] = [];
  if (isLegacyCompound(node)) {
    for (const entry of readLegacyAxisArrays(ctx, path, node)) entries.push(entry);
  } else {
    for (const key of childrenOf(ctx, path)) {
      const entryPath = childPath(path, key);
      const element = ctx.readElement(entryPath);
      if (element.kind === 'dense') entries.push([key, element.handle]);
      else if (element.kind === 'matrix') entries.push([key, element.handle]);
      else if (element.kind === 'dataframe') entries.push([key, element.frame]);
      else if (element.kind !== 'skipped') notice(ctx, `${displayPath(entryPath)}: skipped (${describe(element)} is not an array)`);
    }
  }
  for (const [key, entry] of entries) {
    const rows = 'index' in entry ? entry.index.length : entry.shape[0];
    if (rows !== nRows) {
      const shape = 'index' in entry ? [rows, entry.columns.length] : entry.shape;
      throw shapeMismatch(ctx, childPath(path, key), shape, `${axis} has ${nRows} rows`);
    }
    out.set(key, entry);
  }
  return out;
}

/** obsp/varp: square matrices over obs or var. */
function readPairwise(ctx: ReadContext, path: string, n: number, axis: 'obs' | 'var'): Map<string, MatrixHandle> {
  const out = new Map<string, MatrixHandle>();
  for (const key of childrenOf(ctx, path)) {
    const entryPath = childPath(path, key);
    const element = ctx.readElement(entryPath);
    if (element.kind === 'skipped') continue;
    const handle = matrixFromElement(ctx, entryPath, element);
    if (!handle) throw badElement(ctx, entryPath, `expected a 2-d matrix, found ${describe(element)}`);
    if (handle.shape[0] !== n || handle.shape[1] !== n) throw shapeMismatch(ctx, entryPath, handle.shape, `${axis} has ${n} rows`);
    out.set(key, handle);
  }
  return out;
}

function readRawParts(ctx: ReadContext, paths: { X: string | null; var: string | null; varm: string | null }): RawHandle {
  if (!paths.var) throw badElement(ctx, paths.X ?? '/raw', 'raw has no var');
  const rawVar = readFrame(ctx, paths.var);
  const X = paths.X ? readMatrix(ctx, paths.X) : null;
  if (X && X.shape[1] !== rawVar.index.length) {
    throw shapeMismatch(ctx, paths.X!, X.shape, `raw.var has ${rawVar.index.length} rows`);
  }
  const varm = new Map<string, DenseHandle | MatrixHandle>();
  if (paths.varm) {
    for (const [key, entry] of readAxisArrays(ctx, paths.varm, rawVar.index.length, 'var')) {
      if ('index' in entry) notice(ctx, `${displayPath(childPath(paths.varm, key))}: skipped (dataframes in raw.varm are not supported)`);
      else varm.set(key, entry);
    }
  }
  return { X, var: rawVar, varm };
}

function readAnnData(ctx: ReadContext): AnnDataContent {
  const root = ctx.file;
  const keys = root.keys();
  if (!keys.includes('obs') || !keys.includes('var')) {
    throw new CellarError('not_h5ad', `${ctx.fileLabel} is not an AnnData file: it has no obs/var.`);
  }
  const obs = readFrame(ctx, '/obs');
  const vars = readFrame(ctx, '/var');
  let unsKeys = keys.includes('uns') && isGroup(root.get('/uns')) ? childrenOf(ctx, '/uns') : [];
  const legacyLayout = isLegacyCompound(root.get('/obs')) || isLegacyCompound(root.get('/var'));
  const rawPaths = legacyRawPaths(root);
  const legacyRaw = !keys.includes('raw') && (rawPaths.X !== null || rawPaths.var !== null);
  const raw = keys.includes('raw') ? readRawElement(ctx) : legacyRaw ? readRawParts(ctx, rawPaths) : null;
  if (legacyLayout) {
    const frames = raw ? [obs, vars, raw.var] : [obs, vars];
    const consumed = applyUnsCategories(ctx, frames, unsKeys);
    unsKeys = unsKeys.filter((key) => !consumed.has(key));
  }

  const nObs = obs.index.length;
  const nVars = vars.index.length;
  const X = keys.includes('X') ? readMatrix(ctx, '/X') : null;
  if (X && (X.shape[0] !== nObs || X.shape[1] !== nVars)) {
    throw shapeMismatch(ctx, '/X', X.shape, `obs has ${nObs} rows and var has ${nVars}`);
  }
  if (raw?.X && raw.X.shape[0] !== nObs) throw shapeMismatch(ctx, raw.X.path, raw.X.shape, `obs has ${nObs} rows`);
  return {
    nObs,
    nVars,
    obs,
    var: vars,
    X,
    layers: readLayers(ctx, nObs, nVars),
    obsm: keys.includes('obsm') ? readAxisArrays(ctx, '/obsm', nObs, 'obs') : new Map(),
    varm: keys.includes('varm') ? readAxisArrays(ctx, '/varm', nVars, 'var') : new Map(),
    obsp: readPairwise(ctx, '/obsp', nObs, 'obs'),
    varp: readPairwise(ctx, '/varp', nVars, 'var'),
    unsKeys,
    raw,
  };
}

function readRawElement(ctx: ReadContext): RawHandle {
  const element = ctx.readElement('/raw');
  if (element.kind !== 'raw') throw badElement(ctx, '/raw', `expected raw, found ${describe(element)}`);
  return element.raw;
}

export const anndataEncoding: EncodingReader = {
  type: 'anndata',
  version: '0.1.0',
  read(ctx, path) {
    if (path !== '/') throw badElement(ctx, path, 'nested AnnData objects are not supported');
    return { kind: 'anndata', content: readAnnData(ctx) };
  },
};

export const rawEncoding: EncodingReader = {
  type: 'raw',
  version: '0.1.0',
  read(ctx, path, node) {
    if (!isGroup(node)) throw badElement(ctx, path, 'raw must be a group');
    const keys = node.keys();
    const pick = (name: string): string | null => (keys.includes(name) ? childPath(path, name) : null);
    return { kind: 'raw', raw: readRawParts(ctx, { X: pick('X'), var: pick('var'), varm: pick('varm') }) };
  },
};
