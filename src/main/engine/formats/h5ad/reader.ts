// Opens an .h5ad lazily: checks that it is HDF5, reads obs/var and the shapes
// of everything else, and leaves matrices behind handles. Every element is read
// through the encoding registry (encodings/registry.ts).
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { CellarError } from '../../../../shared/errors';
import { elementToColumn } from './encodings/arrays';
import { childPath, type ReadContext } from './encodings/context';
import { encodingOf, noteUnreadableElements, readElement } from './encodings/registry';
import { h5ErrorReason, loadH5wasm, readStringAttribute, type H5File, type H5wasm } from './h5';
import type { H5adFile, UnsValue } from './types';

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** HDF5 files start with the signature at offset 0, 512, 1024, 2048, … (a user block may precede it). */
function hasHdf5Signature(path: string, size: number): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(8);
    for (let offset = 0; offset + 8 <= size; offset = offset === 0 ? 512 : offset * 2) {
      if (readSync(fd, head, 0, 8, offset) === 8 && head.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

function checkReadableHdf5(path: string, label: string): void {
  let size: number;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw new CellarError('not_hdf5', `${label} is a folder, not an HDF5 file.`);
    size = stat.size;
  } catch (err) {
    if (err instanceof CellarError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CellarError('not_found', `${label} does not exist.`);
    throw new CellarError('io_error', `${label} could not be opened: ${(err as Error).message}`);
  }
  if (!hasHdf5Signature(path, size)) throw new CellarError('not_hdf5', `${label} is not an HDF5 file.`);
}

/** Turns HDF5's open failure into one sentence ("it is truncated (…)" for the common case). */
function describeOpenFailure(err: unknown): string {
  const reason = h5ErrorReason(err);
  const truncated = /truncated file: eof = (\d+).*stored_eof = (\d+)/.exec(reason);
  if (truncated) return `it is truncated (${truncated[1]} of ${truncated[2]} bytes present)`;
  return reason;
}

/** Opens an HDF5 file for reading, with one message for a missing, unreadable, non-HDF5 or damaged file. */
export async function openHdf5File(path: string, label = basename(path)): Promise<H5File> {
  return openLoadedHdf5File(await loadH5wasm(), path, label);
}

/** openHdf5File once h5wasm is loaded: synchronous, so it can run under a watchdog (inspect-here.ts). */
function openLoadedHdf5File(h5: H5wasm, path: string, label: string): H5File {
  checkReadableHdf5(path, label);
  try {
    return new h5.File(path, 'r');
  } catch (err) {
    // The signature is there, so this is a damaged HDF5 file rather than another kind of file.
    throw new CellarError('bad_element', `${label} could not be read: ${describeOpenFailure(err)}.`);
  }
}

export async function openH5ad(path: string): Promise<H5adFile> {
  return openLoadedH5ad(await loadH5wasm(), path);
}

/** openH5ad once h5wasm is loaded (loadH5wasm resolved): every step is synchronous. */
export function openLoadedH5ad(h5: H5wasm, path: string): H5adFile {
  const label = basename(path);
  const file = openLoadedHdf5File(h5, path, label);

  let closed = false;
  const notices: string[] = [];
  const ctx: ReadContext = {
    file,
    fileLabel: label,
    notices,
    assertOpen() {
      if (closed) throw new CellarError('io_error', `${label} is closed; open it again to read more.`);
    },
    readElement: (elementPath) => readElement(ctx, elementPath),
  };

  try {
    const root = ctx.readElement('/');
    if (root.kind !== 'anndata') {
      throw new CellarError('not_h5ad', `${label} is not an AnnData file: its root is not an AnnData group.`);
    }
    const content = root.content;
    if (file.keys().includes('uns')) noteUnreadableElements(ctx, '/uns');
    const layoutVersion = readStringAttribute(file, 'encoding-type') ? encodingOf('/', file).version : 'legacy';
    return {
      path,
      layoutVersion,
      ...content,
      readUns: () => (content.unsKeys.length ? readUnsGroup(ctx, '/uns', content.unsKeys) : {}),
      notices,
      close() {
        if (closed) return;
        closed = true;
        file.close();
      },
    };
  } catch (err) {
    closed = true;
    file.close();
    if (err instanceof CellarError) throw err;
    throw new CellarError('bad_element', `${label} could not be read: ${h5ErrorReason(err)}`);
  }
}

function readUnsGroup(ctx: ReadContext, path: string, keys: string[]): { [key: string]: UnsValue } {
  const out: { [key: string]: UnsValue } = {};
  for (const key of keys) {
    out[key] = readUnsValue(ctx, childPath(path, key));
  }
  return out;
}

/** One uns element as a plain value (skipped elements stay visible as kind 'skipped'). */
function readUnsValue(ctx: ReadContext, path: string): UnsValue {
  const element = ctx.readElement(path);
  switch (element.kind) {
    case 'dict':
      return readUnsGroup(ctx, path, element.keys);
    case 'scalar':
      return element.value;
    case 'null':
      return null;
    case 'dense': {
      const { handle } = element;
      if (handle.shape.length === 1 && handle.dtype !== 'bool') return handle.read();
      if (handle.shape.length === 1) return { kind: 'column', column: elementToColumn(ctx, path, element) };
      return { kind: 'dense', shape: handle.shape, values: handle.read() };
    }
    case 'column':
      return { kind: 'column', column: element.column };
    case 'dataframe':
      return { kind: 'dataframe', frame: element.frame };
    case 'matrix':
      return { kind: 'matrix', handle: element.handle };
    case 'recarray':
      return { kind: 'recarray', fields: element.fields };
    case 'skipped':
      return { kind: 'skipped', encoding: element.encoding, reason: element.reason };
    default:
      return { kind: 'skipped', encoding: element.kind, reason: `${element.kind} elements are not supported in uns` };
  }
}
