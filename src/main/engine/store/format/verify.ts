// verify trusts nothing: every manifest must agree with itself and with the files it names
// (row counts, pieces covering every row once, nnz, joinid ranges), every file any manifest
// names must exist with its recorded size and checksum, and, given the registry's view,
// every registered version must have its manifest and every manifest its registry row.
// Files no manifest names are leftovers of interrupted writes ("garbage"); fix removes them
// only when nothing could still need them.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, join } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { CellarError } from '../../../../shared/errors';
import { registerArrowCodecs } from '../io/codecs';
import { acquireStoreLock, liveReaderLeases } from './lock';
import { DATA_DIR, LOCK_FILE, MANIFEST_DIR, manifestFileName, parseManifest, referencedFiles, versionOfManifestName, type FileEntry, type FrameEntry, type RowPiece, type StoreManifest } from './manifest';
import { nodeStoreFs, type StoreFs } from '../io/store-fs';
import type { VerifyJobResult } from '../../../../shared/result-types';

/** The store's versions as the registry holds them. */
export interface RegistryVersions {
  /** Versions the registry lists as readable. */
  live: number[];
  /** Versions the registry retired (dropped by compact, deleted). */
  retired: number[];
}

export interface VerifyOptions {
  fix?: boolean;
  fs?: StoreFs;
  storeKey?: string;
  /** When given, manifests and registry rows are checked against each other. */
  registry?: RegistryVersions;
  /** Folder of per-version caches to remove with a retired version's manifest (relative to the store). */
  versionCacheDir?: string;
}

/** What verify finds (the app's and the CLI's report adds the store and whether it repaired). */
export interface VerifyResult extends Omit<VerifyJobResult, 'store' | 'repaired'> {
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
  if (!options.fix) return inspectStore(dir, options, null);
  const storeFs = options.fs ?? nodeStoreFs;
  // Holding the lock for the whole check: no writer can add or commit files meanwhile.
  const lock = acquireStoreLock(storeFs, dir, options.storeKey ?? basename(dir));
  try {
    return inspectStore(dir, options, storeFs);
  } finally {
    lock.release();
  }
}

// ── what the files hold ──────────────────────────────────────────────────────

/** Opens each data file once (verify reads every piece's file to count its rows). */
class FileContents {
  private readonly tables = new Map<string, Table | string>();
  /** Files the checksum pass found missing or damaged (already reported). */
  readonly damaged = new Set<string>();
  constructor(private readonly dir: string) {
    registerArrowCodecs();
  }

  /** The file's table, or why it cannot be read. */
  table(file: string): Table | string {
    if (this.damaged.has(file)) return 'it is damaged';
    let table = this.tables.get(file);
    if (table === undefined) {
      try {
        table = tableFromIPC(fs.readFileSync(join(this.dir, file)));
      } catch (err) {
        table = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it is missing' : `it cannot be read (${(err as Error).message})`;
      }
      this.tables.set(file, table);
    }
    return table;
  }
}

function numberAt(table: Table, column: string, row: number): number | null {
  const value = table.getChild(column)?.get(row) as number | bigint | null | undefined;
  return value === null || value === undefined ? null : Number(value);
}

/** Sum of a numeric column, or of the lengths/values of a list column's items. */
function columnSum(table: Table, column: string): number {
  const vector = table.getChild(column);
  let sum = 0;
  if (!vector) return NaN;
  for (let i = 0; i < vector.length; i++) {
    const value = vector.get(i) as number | bigint | { toArray(): ArrayLike<number> } | null;
    if (value === null) continue;
    if (typeof value === 'number' || typeof value === 'bigint') sum += Number(value);
    else for (const item of Array.from(value.toArray())) sum += Number(item);
  }
  return sum;
}

/**
 * Pieces of one column against its frame: together they cover rows [0, nRows) exactly
 * once, and each file holds exactly its piece's rows.
 */
function checkFramePieces(where: string, frame: FrameEntry, contents: FileContents, problems: string[]): void {
  for (const column of frame.columns) {
    const label = `${where} column ${column.name}`;
    const pieces = [...column.pieces].sort((a, b) => a.rowStart - b.rowStart);
    let next = 0;
    for (const piece of pieces) {
      if (piece.rowStart !== next) {
        problems.push(
          piece.rowStart < next
            ? `${label}: rows ${piece.rowStart}–${next - 1} are in more than one piece (${piece.file}).`
            : `${label}: rows ${next}–${piece.rowStart - 1} are in no piece.`,
        );
      }
      next = Math.max(next, piece.rowStart + piece.nRows);
      const table = contents.table(piece.file);
      if (typeof table === 'string') continue; // reported by the file check
      const field = table.getChild(column.name);
      if (!field) problems.push(`${label}: ${piece.file} has no field ${column.name}.`);
      else if (field.length !== piece.nRows) problems.push(`${label}: ${piece.file} holds ${field.length} rows, the manifest says ${piece.nRows}.`);
      const start = table.schema.metadata.get('cellar.row_start');
      if (start !== undefined && Number(start) !== piece.rowStart) problems.push(`${label}: ${piece.file} starts at row ${start}, the manifest says ${piece.rowStart}.`);
    }
    if (next !== frame.nRows) problems.push(`${label} covers ${next} rows, but the manifest says the frame has ${frame.nRows} (nRows).`);
  }
}

/** Dense pieces (obsm/varm): inside [0, nRows), each file holding exactly its rows and width. */
function checkDensePieces(label: string, pieces: RowPiece[], nCols: number, nRows: number, contents: FileContents, problems: string[]): void {
  for (const piece of pieces) {
    if (piece.rowStart < 0 || piece.rowStart + piece.nRows > nRows) problems.push(`${label}: ${piece.file} holds rows ${piece.rowStart}–${piece.rowStart + piece.nRows - 1}, beyond the ${nRows} rows.`);
    const table = contents.table(piece.file);
    if (typeof table === 'string') continue;
    if (table.numRows !== piece.nRows) {
      problems.push(`${label}: ${piece.file} holds ${table.numRows} rows, the manifest says ${piece.nRows}.`);
      continue;
    }
    if (piece.nRows === 0) continue;
    const first = numberAt(table, 'soma_joinid', 0);
    const last = numberAt(table, 'soma_joinid', piece.nRows - 1);
    if (first !== piece.rowStart || last !== piece.rowStart + piece.nRows - 1) {
      problems.push(`${label}: ${piece.file} holds joinids ${first}–${last}, the manifest says ${piece.rowStart}–${piece.rowStart + piece.nRows - 1}.`);
    }
    const width = (table.schema.fields.find((f) => f.name === 'values')?.type as { listSize?: number } | undefined)?.listSize;
    if (width !== nCols) problems.push(`${label}: ${piece.file} has ${width ?? '?'} columns, the manifest says ${nCols}.`);
  }
}

/** Everything one manifest says about itself that its files can confirm or deny. */
function checkManifestConsistency(name: string, manifest: StoreManifest, contents: FileContents, problems: string[]): void {
  const where = (what: string) => `${name}: ${what}`;
  const nObs = manifest.obs.nRows;
  checkFramePieces(where('obs'), manifest.obs, contents, problems);
  for (const [ms, measurement] of Object.entries(manifest.ms)) {
    const nVars = measurement.var.nRows;
    checkFramePieces(where(`ms/${ms}/var`), measurement.var, contents, problems);
    if (measurement.presence) checkFramePieces(where(`ms/${ms}/presence`), measurement.presence, contents, problems);
    for (const [layerName, layer] of Object.entries(measurement.X)) {
      const label = where(`ms/${ms}/X/${layerName}`);
      const fragments = [...layer.fragments].sort((a, b) => a.rowStart - b.rowStart);
      let next = 0;
      let nnz = 0;
      for (const fragment of fragments) {
        nnz += fragment.nnz;
        if (fragment.rowStart < next) problems.push(`${label}: rows ${fragment.rowStart}–${next - 1} are in more than one fragment (${fragment.file}).`);
        next = Math.max(next, fragment.rowStart + fragment.nRows);
        if (fragment.nCols > nVars) problems.push(`${label}: ${fragment.file} has ${fragment.nCols} columns, but ms/${ms}/var has ${nVars} rows.`);
        const index = contents.table(fragment.indexFile);
        if (typeof index === 'string') continue;
        const rows = columnSum(index, 'n_rows');
        const entries = columnSum(index, 'row_nnz');
        const first = index.numRows > 0 ? numberAt(index, 'row_start', 0) : fragment.rowStart;
        if (index.numRows !== fragment.nChunks) problems.push(`${label}: ${fragment.indexFile} lists ${index.numRows} chunks, the manifest says ${fragment.nChunks}.`);
        if (rows !== fragment.nRows) problems.push(`${label}: ${fragment.file} holds ${rows} rows, the manifest says ${fragment.nRows}.`);
        if (entries !== fragment.nnz) problems.push(`${label}: ${fragment.file} holds ${entries} non-zeros, the manifest says ${fragment.nnz}.`);
        if (first !== fragment.rowStart) problems.push(`${label}: ${fragment.file} starts at joinid ${first}, the manifest says ${fragment.rowStart}.`);
      }
      if (next > nObs) problems.push(`${label} has rows up to ${next - 1}, but obs has ${nObs} rows.`);
      if (nnz !== layer.nnz) problems.push(`${label}: its fragments hold ${nnz} non-zeros, the manifest says ${layer.nnz}.`);
    }
    for (const [key, dense] of Object.entries(measurement.obsm)) checkDensePieces(where(`ms/${ms}/obsm/${key}`), dense.pieces, dense.nCols, nObs, contents, problems);
    for (const [key, dense] of Object.entries(measurement.varm)) checkDensePieces(where(`ms/${ms}/varm/${key}`), dense.pieces, dense.nCols, nVars, contents, problems);
    for (const [key, graph] of Object.entries(measurement.obsp ?? {})) {
      for (const dense of [graph.indices, graph.distances]) checkDensePieces(where(`ms/${ms}/obsp/${key}`), dense.pieces, dense.nCols, nObs, contents, problems);
    }
  }
}

// ── the whole store ──────────────────────────────────────────────────────────

/** Checks the store; with `fixWith`, removes the garbage nothing can still need. */
function inspectStore(dir: string, options: VerifyOptions, fixWith: StoreFs | null): VerifyResult {
  const problems: string[] = [];
  const versions: number[] = [];
  const expected = new Map<string, { entry: FileEntry; versions: number[] }>();
  const garbage: string[] = [];
  const kept: string[] = [];
  const retiredManifests: number[] = [];
  // Set when some version's files cannot be known: then no data file is a sure leftover.
  const unknownFiles: string[] = [];
  const contents = new FileContents(dir);
  const registry = options.registry;
  const registered = registry ? new Set([...registry.live, ...registry.retired]) : null;
  const highestRegistered = registry ? Math.max(0, ...registry.live, ...registry.retired) : 0;
  const onDisk = new Set<number>();
  const parsed: { label: string; manifest: StoreManifest }[] = [];
  // Named by a manifest's entries but missing from its `files`: still never a leftover.
  const namedWithoutChecksum = new Set<string>();

  for (const name of listFiles(join(dir, MANIFEST_DIR)).sort()) {
    const version = versionOfManifestName(name);
    if (version === null || manifestFileName(version) !== name) {
      garbage.push(`${MANIFEST_DIR}/${name}`);
      continue;
    }
    onDisk.add(version);
    const label = `${MANIFEST_DIR}/${name}`;
    // A version compact dropped from the registry: its manifest is a leftover of that compaction.
    if (registry && registry.retired.includes(version) && !registry.live.includes(version)) {
      retiredManifests.push(version);
      garbage.push(label);
      continue;
    }
    let manifest;
    try {
      manifest = parseManifest(fs.readFileSync(join(dir, MANIFEST_DIR, name), 'utf8'), label, version);
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
      unknownFiles.push(`${label} cannot be read`);
      continue;
    }
    versions.push(version);
    if (registered && !registered.has(version)) {
      // Above every registered version it is a commit not registered yet (its writer registers it, or the next command does).
      if (version < highestRegistered) problems.push(`${label} (version ${version}) has no registry row, and the registry has later versions: it cannot be registered again.`);
    }
    for (const file of referencedFiles(manifest)) {
      if (file in manifest.files) continue;
      problems.push(`${label} uses ${file} but does not list its checksum.`);
      namedWithoutChecksum.add(file);
    }
    parsed.push({ label, manifest });
    for (const [file, entry] of Object.entries(manifest.files)) {
      const known = expected.get(file);
      if (!known) expected.set(file, { entry, versions: [version] });
      else if (known.entry.sha256 !== entry.sha256 || known.entry.size !== entry.size) {
        problems.push(`${file}: versions ${known.versions[0]} and ${version} record different checksums.`);
      } else known.versions.push(version);
    }
  }
  for (const version of registry?.live ?? []) {
    if (onDisk.has(version)) continue;
    problems.push(`Version ${version} is in the registry, but its manifest ${MANIFEST_DIR}/${manifestFileName(version)} is missing: it cannot be read.`);
    unknownFiles.push(`the manifest of version ${version} is missing`);
  }

  const buffer = Buffer.allocUnsafe(HASH_READ_BYTES);
  for (const [file, { entry, versions: users }] of [...expected].sort(([a], [b]) => a.localeCompare(b))) {
    const path = join(dir, file);
    let size: number;
    try {
      size = fs.statSync(path).size;
    } catch {
      problems.push(`${file} is missing (used by ${versionList(users)}).`);
      contents.damaged.add(file);
      continue;
    }
    if (size !== entry.size) {
      problems.push(`${file} has ${size} bytes, the manifest says ${entry.size} (used by ${versionList(users)}).`);
      contents.damaged.add(file);
      continue;
    }
    if (sha256OfFile(path, buffer) !== entry.sha256) {
      problems.push(`${file} was modified: its checksum does not match the manifest (used by ${versionList(users)}).`);
      contents.damaged.add(file);
    }
  }
  // Files sound, now what the manifests say about them.
  for (const { label, manifest } of parsed) checkManifestConsistency(label, manifest, contents, problems);

  const dataGarbage: string[] = [];
  for (const name of listFiles(join(dir, DATA_DIR)).sort()) {
    const file = `${DATA_DIR}/${name}`;
    if (!expected.has(file) && !namedWithoutChecksum.has(file)) dataGarbage.push(file);
  }
  garbage.push(...dataGarbage);
  // While fixing, the lock file is our own.
  const writerActive = !fixWith && fs.existsSync(join(dir, LOCK_FILE));
  const removed: string[] = [];
  if (fixWith && garbage.length > 0) {
    const liveVersions = new Set(versions);
    // A reader of a version no live manifest names (or of "the latest" when it opened) may be reading those files.
    const readers = liveReaderLeases(dir).filter((r) => r.version === null || !liveVersions.has(r.version));
    const keepData = unknownFiles.length > 0 || readers.length > 0;
    if (unknownFiles.length && dataGarbage.length) kept.push(`Kept ${dataGarbage.length} data file(s) no manifest names: ${unknownFiles.join('; ')}, so they may be its data.`);
    else if (readers.length && dataGarbage.length) kept.push(`Kept ${dataGarbage.length} data file(s) no live version names: a reader (pid ${readers.map((r) => r.pid).join(', ')}) may still be reading them; run verify --fix again when it is done.`);
    // Retired manifests go too, unless a reader may be opening them.
    const removable = garbage.filter((file) => !(keepData && (file.startsWith(`${DATA_DIR}/`) || retiredManifests.some((v) => file === `${MANIFEST_DIR}/${manifestFileName(v)}`))));
    for (const file of removable) {
      fixWith.unlink(join(dir, file));
      removed.push(file);
    }
    if (options.versionCacheDir && !keepData) {
      for (const version of retiredManifests) {
        const cached = join(dir, options.versionCacheDir, manifestFileName(version));
        if (fs.existsSync(cached)) fixWith.unlink(cached);
      }
    }
    if (removed.some((f) => f.startsWith(`${MANIFEST_DIR}/`))) fixWith.fsyncDir(join(dir, MANIFEST_DIR));
    if (removed.some((f) => f.startsWith(`${DATA_DIR}/`))) fixWith.fsyncDir(join(dir, DATA_DIR));
  }

  return { ok: problems.length === 0, versions, problems, garbage, removed, kept, writerActive };
}
