// How a dataset is hashed, copied into the home and named, whether it is one file (h5ad,
// 10x .h5, loom) or a 10x Matrix Market folder.
//
// A folder is hashed like any lamindb folder artifact (md5-d: md5 over the md5 of each
// file's hash, in sorted order), over exactly its three data files (matrix, barcodes,
// features/genes), whatever else the folder holds; its size is theirs together. The copy in
// the home is a folder holding those three files under their standard names (compression
// kept), so the same content gets the same hash wherever it came from.
import { statSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { copyAndHashFile, hashFile, hashFolder, type FileHash } from '../../registry/hash';
import type { HashType } from '../../../shared/registry-types';
import { locateMatrixMarket, storedNames } from '../formats/mtx/folder';
import { isMatrixMarketInput } from '../formats/mtx/reader';

export interface DatasetHash {
  hash: string;
  hashType: HashType;
  size: number;
  nFiles: number;
}

/** A folder, or the path of a matrix.mtx(.gz) inside one. */
export function isFolderDataset(path: string): boolean {
  try {
    if (statSync(path).isDirectory()) return true;
  } catch {
    return false;
  }
  return isMatrixMarketInput(path);
}

/** The suffix an artifact records: the file's own, or ".mtx" for a Matrix Market folder. */
export function datasetSuffix(path: string): string {
  if (isFolderDataset(path)) return '.mtx';
  return extname(path) || '.h5ad';
}

/** The key an artifact gets by default: the file's name, the folder's, or the prefix its files share (GSM1_matrix.mtx.gz → GSM1). */
export function datasetKey(path: string): string {
  if (!isFolderDataset(path)) return basename(path);
  const files = locateMatrixMarket(path);
  return files.prefix.replace(/[_.-]+$/, '') || basename(files.dir);
}

function fromFiles(files: FileHash[]): DatasetHash {
  return { ...hashFolder(files.map((f) => ({ path: '', hash: f.hash }))), size: files.reduce((n, f) => n + f.size, 0), nFiles: files.length };
}

export async function hashDataset(path: string, signal?: AbortSignal): Promise<DatasetHash> {
  if (!isFolderDataset(path)) return { ...(await hashFile(path, signal)), nFiles: 1 };
  const files: FileHash[] = [];
  for (const { source } of storedNames(locateMatrixMarket(path))) files.push(await hashFile(source, signal));
  return fromFiles(files);
}

/** Copies a dataset to `target` (a file, or a folder for Matrix Market) and hashes what it read. On failure the caller removes `target`. */
export async function copyAndHashDataset(path: string, target: string, signal?: AbortSignal, onBytes?: (copied: number, size: number) => void): Promise<DatasetHash> {
  if (!isFolderDataset(path)) return { ...(await copyAndHashFile(path, target, signal, onBytes)), nFiles: 1 };
  await rm(target, { recursive: true, force: true });
  await mkdir(target);
  const parts = storedNames(locateMatrixMarket(path));
  // A folder's bytes count as one: the sum of its files.
  const sizes = await Promise.all(parts.map(async ({ source }) => (await stat(source)).size));
  const size = sizes.reduce((a, b) => a + b, 0);
  const files: FileHash[] = [];
  let before = 0;
  for (const [i, { source, name }] of parts.entries()) {
    const base = before;
    files.push(await copyAndHashFile(source, join(target, name), signal, onBytes && ((copied) => onBytes(base + copied, size))));
    before += sizes[i]!;
  }
  return fromFiles(files);
}
