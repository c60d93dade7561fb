// The one place that decides how a path users give is read: an .h5ad, a 10x HDF5 file, a
// loom file, or a 10x Matrix Market folder. HDF5 files are told apart by what they hold,
// so an h5ad named .h5 still reads as an h5ad; the suffix only chooses which format's
// message a file that matches none of them gets.
import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { CellarError } from '../../../shared/errors';
import { readStringAttribute } from './h5ad/h5';
import { openH5ad } from './h5ad/reader';
import { childDataset, childGroup, childNames, openHdf5 } from './hdf5';
import { openLoom, LOOM_NO_MATRIX } from './loom/reader';
import { isMatrixMarketInput, openMatrixMarket } from './mtx/reader';
import type { DatasetFile } from './source';
import { notTenxMessage, openTenxH5, tenxLayoutOf } from './tenx/reader';

type Hdf5Kind = 'h5ad' | '10x' | 'loom' | 'loom-without-matrix' | 'unknown';

/** What an HDF5 file holds, from its top-level names; null when it cannot even be opened. */
async function hdf5KindOf(path: string): Promise<{ kind: Hdf5Kind; notTenx: string } | null> {
  let opened;
  try {
    opened = await openHdf5(path);
  } catch {
    return null;
  }
  try {
    const root = opened.file;
    const names = childNames(root);
    const notTenx = notTenxMessage(opened.label, root);
    if (readStringAttribute(root, 'encoding-type') === 'anndata' || (names.includes('obs') && names.includes('var'))) return { kind: 'h5ad', notTenx };
    if (tenxLayoutOf(root)) return { kind: '10x', notTenx };
    if (childDataset(root, 'matrix')) return { kind: 'loom', notTenx };
    if (childGroup(root, 'row_attrs') || childGroup(root, 'col_attrs')) return { kind: 'loom-without-matrix', notTenx };
    return { kind: 'unknown', notTenx };
  } catch {
    return null;
  } finally {
    opened.close();
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Opens any supported dataset lazily (metadata read, matrices behind handles). Always close() it. */
export async function openDataset(path: string): Promise<DatasetFile> {
  const suffix = extname(path).toLowerCase();
  if (isDirectory(path) || isMatrixMarketInput(path)) return openMatrixMarket(path);
  if (suffix === '.h5ad') return asDataset(await openH5ad(path));
  const found = await hdf5KindOf(path);
  switch (found?.kind) {
    case '10x':
      return openTenxH5(path);
    case 'loom':
      return openLoom(path);
    case 'loom-without-matrix':
      throw new CellarError('unknown_format', `${basename(path)} is not a loom file: ${LOOM_NO_MATRIX}.`);
    case 'h5ad':
      return asDataset(await openH5ad(path));
  }
  if (found && suffix === '.loom') throw new CellarError('unknown_format', `${basename(path)} is not a loom file: ${LOOM_NO_MATRIX}.`);
  if (found && (suffix === '.h5' || suffix === '.hdf5')) throw new CellarError('unknown_format', found.notTenx);
  // Not HDF5, damaged, or HDF5 of no known kind: the h5ad reader's messages say which.
  return asDataset(await openH5ad(path));
}

/** An opened .h5ad as a dataset of the h5ad format (nothing more to validate). */
export function asDataset(file: Awaited<ReturnType<typeof openH5ad>>): DatasetFile {
  return Object.assign(file, {
    format: 'h5ad' as const,
    formatLabel: file.layoutVersion === 'legacy' ? 'AnnData, legacy layout (anndata ≤ 0.7)' : `AnnData encoding ${file.layoutVersion}`,
    featureTypes: [],
    dropped: [],
    validate: () => Promise.resolve(),
  });
}
