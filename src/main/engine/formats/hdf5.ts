// Opening an HDF5 file that is not an h5ad (10x, loom) with the h5ad reader's checks and
// messages, and the few typed reads those readers share.
import { basename } from 'node:path';
import { CellarError } from '../../../shared/errors';
import type { ReadContext } from './h5ad/encodings/context';
import { datasetShape, elementDtype, h5ErrorReason, isDataset, isGroup, readNumeric, readStrings, type H5Dataset, type H5File, type H5Group } from './h5ad/h5';
import { openHdf5File } from './h5ad/reader';
import type { Column } from '../columns/column-model';

export interface OpenHdf5 {
  file: H5File;
  /** The h5ad reader's context, so its matrix handles can read this file too. */
  ctx: ReadContext;
  label: string;
  isClosed(): boolean;
  close(): void;
}

export async function openHdf5(path: string): Promise<OpenHdf5> {
  const label = basename(path);
  const file = await openHdf5File(path, label);
  let closed = false;
  const ctx: ReadContext = {
    file,
    fileLabel: label,
    notices: [],
    assertOpen() {
      if (closed) throw new CellarError('io_error', `${label} is closed; open it again to read more.`);
    },
    readElement(elementPath) {
      throw new CellarError('internal', `${label}: ${elementPath} is not read through the AnnData encodings.`);
    },
  };
  return {
    file,
    ctx,
    label,
    isClosed: () => closed,
    close() {
      if (closed) return;
      closed = true;
      file.close();
    },
  };
}

/** Runs a reader on an open file: closes it on failure and turns HDF5 errors into one sentence. */
export function readingOrClose<T>(opened: OpenHdf5, read: () => T): T {
  try {
    return read();
  } catch (err) {
    opened.close();
    if (err instanceof CellarError) throw err;
    throw new CellarError('bad_element', `${opened.label} could not be read: ${h5ErrorReason(err)}`);
  }
}

export function childNames(group: H5Group): string[] {
  return group.keys();
}

export function child(group: H5Group, name: string): unknown {
  return group.keys().includes(name) ? group.get(name) : null;
}

export function childGroup(group: H5Group, name: string): H5Group | null {
  const node = child(group, name);
  return isGroup(node) ? node : null;
}

export function childDataset(group: H5Group, name: string): H5Dataset | null {
  const node = child(group, name);
  return isDataset(node) ? node : null;
}

/** A 1-d dataset of strings, its length checked against `length` when given. */
export function stringsAt(label: string, ds: H5Dataset, length?: number): string[] {
  const shape = datasetShape(ds) ?? [];
  if (shape.length !== 1 || elementDtype(ds.metadata) !== 'string') throw new CellarError('bad_element', `${label}: ${ds.path.slice(1)} must be a 1-dimensional array of strings.`);
  if (length !== undefined && shape[0] !== length) throw new CellarError('bad_element', `${label}: ${ds.path.slice(1)} has ${shape[0]} entries, expected ${length}.`);
  return readStrings(ds);
}

/**
 * A 1-d dataset as an obs/var column (strings, numbers, or bools from an HDF5 enum), or null
 * when it is something else (2-d, compound, …).
 */
export function columnAt(ds: H5Dataset, length: number): Column | null {
  const shape = datasetShape(ds) ?? [];
  if (shape.length !== 1 || shape[0] !== length) return null;
  const dtype = elementDtype(ds.metadata);
  if (dtype === 'string') return { kind: 'string', values: readStrings(ds) };
  if (dtype === 'bool') return { kind: 'bool', values: Uint8Array.from(readNumeric(ds) as Uint8Array, (v) => (v ? 1 : 0)) };
  if (dtype === 'other') return null;
  return { kind: 'numeric', dtype, values: readNumeric(ds) };
}
