// verify: every file any manifest names must exist with its recorded size and checksum;
// files no manifest names are leftovers of interrupted writes ("garbage"), removed with fix.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, join } from 'node:path';
import { CellarError } from '../../../shared/errors';
import { acquireStoreLock } from './lock';
import { DATA_DIR, LOCK_FILE, MANIFEST_DIR, manifestFileName, parseManifest, referencedFiles, versionOfManifestName, type FileEntry } from './manifest';
import { nodeStoreFs, type StoreFs } from './storeFs';

export interface VerifyOptions {
  fix?: boolean;
  fs?: StoreFs;
  storeKey?: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Versions whose manifest could be read. */
  versions: number[];
  /** One sentence per problem, naming the file. */
  problems: string[];
  /** Files no manifest names (relative paths). */
  garbage: string[];
  /** Garbage removed (with fix). */
  removed: string[];
  /** A writer held the lock while verifying: its files in progress show up as garbage. */
  writerActive: boolean;
}

const HASH_READ_BYTES = 8 << 20;

function sha256OfFile(path: string, buffer: Buffer): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(path, 'r');
  try {
    for (;;) {
      const got = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (got === 0) break;
      hash.update(buffer.subarray(0, got));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function listFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function versionList(versions: number[]): string {
  return versions.length === 1 ? `version ${versions[0]}` : `versions ${versions.join(', ')}`;
}

export async function verifyStore(dir: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  if (!fs.existsSync(join(dir, MANIFEST_DIR))) {
    throw new CellarError('not_found', `${dir} is not a Cellar store (it has no ${MANIFEST_DIR} folder).`);
  }
  if (!options.fix) return inspectStore(dir, null);
  const storeFs = options.fs ?? nodeStoreFs;
  // Holding the lock for the whole check: no writer can add or commit files meanwhile.
  const lock = acquireStoreLock(storeFs, dir, options.storeKey ?? basename(dir));
  try {
    return inspectStore(dir, storeFs);
  } finally {
    lock.release();
  }
}

/** Checks the store; with `fixWith`, removes the garbage through it. */
function inspectStore(dir: string, fixWith: StoreFs | null): VerifyResult {
  const problems: string[] = [];
  const versions: number[] = [];
  const expected = new Map<string, { entry: FileEntry; versions: number[] }>();
  const garbage: string[] = [];

  for (const name of listFiles(join(dir, MANIFEST_DIR)).sort()) {
    const version = versionOfManifestName(name);
    if (version === null || manifestFileName(version) !== name) {
      garbage.push(`${MANIFEST_DIR}/${name}`);
      continue;
    }
    const path = join(dir, MANIFEST_DIR, name);
    let manifest;
    try {
      manifest = parseManifest(fs.readFileSync(path, 'utf8'), `${MANIFEST_DIR}/${name}`, version);
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
      continue;
    }
    versions.push(version);
    for (const file of referencedFiles(manifest)) {
      if (!(file in manifest.files)) problems.push(`${MANIFEST_DIR}/${name} uses ${file} but does not list its checksum.`);
    }
    for (const [file, entry] of Object.entries(manifest.files)) {
      const known = expected.get(file);
      if (!known) expected.set(file, { entry, versions: [version] });
      else if (known.entry.sha256 !== entry.sha256 || known.entry.size !== entry.size) {
        problems.push(`${file}: versions ${known.versions[0]} and ${version} record different checksums.`);
      } else known.versions.push(version);
    }
  }

  const buffer = Buffer.allocUnsafe(HASH_READ_BYTES);
  for (const [file, { entry, versions: users }] of [...expected].sort(([a], [b]) => a.localeCompare(b))) {
    const path = join(dir, file);
    let size: number;
    try {
      size = fs.statSync(path).size;
    } catch {
      problems.push(`${file} is missing (used by ${versionList(users)}).`);
      continue;
    }
    if (size !== entry.size) {
      problems.push(`${file} has ${size} bytes, the manifest says ${entry.size} (used by ${versionList(users)}).`);
      continue;
    }
    if (sha256OfFile(path, buffer) !== entry.sha256) {
      problems.push(`${file} was modified: its checksum does not match the manifest (used by ${versionList(users)}).`);
    }
  }

  for (const name of listFiles(join(dir, DATA_DIR)).sort()) {
    const file = `${DATA_DIR}/${name}`;
    if (!expected.has(file)) garbage.push(file);
  }
  // While fixing, the lock file is our own.
  const writerActive = !fixWith && fs.existsSync(join(dir, LOCK_FILE));
  const removed: string[] = [];
  if (fixWith && garbage.length > 0) {
    for (const file of garbage) {
      fixWith.unlink(join(dir, file));
      removed.push(file);
    }
    fixWith.fsyncDir(join(dir, DATA_DIR));
  }

  return { ok: problems.length === 0, versions, problems, garbage, removed, writerActive };
}
