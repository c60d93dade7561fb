// Restore, compact and diff: the store's life across versions (SPEC §4 "Versions and lineage").
import { existsSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CellarError } from '../../../shared/errors';
import type { Registry } from '../../registry/registry';
import type { ArtifactRecord } from '../../../shared/registry-types';
import { acquireStoreLock, liveReaderLeases } from '../store/format/lock';
import { DATA_DIR, listManifestVersions, manifestFileName, MANIFEST_DIR, readManifest, referencedFiles, type FrameEntry, type GraphEntry, type StoreManifest } from '../store/format/manifest';
import { openStore, type StoreReader } from '../store/store-reader';
import { nodeStoreFs, type StoreFs } from '../store/io/store-fs';
import { createStoreWriter, type StoreWriter } from '../store/store-writer';
import type { CsrBlock } from '../columns/column-model';
import { RAW_MEASUREMENT, X_LAYER, type StoreResultJson } from './concatenate';
import { stringAt } from '../columns/conversions';
import { matrixName, type ProgressFn } from './progress';
import { commitStoreVersion } from './commit-version';
import { HASH_CACHE_DIR, resolveVersionRef } from './store-records';
import { resolveStore } from './reconcile';
import { compactionMessage, restoreMessage } from '../../../shared/version-message';
import type { FrameDiff, GraphDiff, StoreDiff } from '../../../shared/result-types';

/**
 * Refuses to build on a version that is no longer the latest. The base was read before
 * the writer took the store's lock; a write committed in between would otherwise be
 * silently left out of the new version.
 */
export async function refuseStaleBase(writer: StoreWriter, baseVersion: number, storeKey: string, what: string): Promise<void> {
  const versions = listManifestVersions(writer.dir);
  const latest = versions[versions.length - 1] ?? 0;
  if (latest === baseVersion) return;
  await writer.abort();
  throw new CellarError('locked', `The store ${storeKey} changed while ${what} (another write made version ${latest}); nothing was written. Run the command again.`);
}

const pickVersion = resolveVersionRef;

function resultJson(version: ArtifactRecord, runUid: string): StoreResultJson {
  return { store: { uid: version.uid, key: version.key, version: version.version, n_observations: version.nObservations ?? 0, n_vars: version.nVars ?? 0 }, run: { uid: runUid } };
}

/** Makes an old version the latest: a new manifest naming the old files; nothing is copied. */
export async function restoreVersion(params: { registry: Registry; storeKey: string; version: string }): Promise<StoreResultJson> {
  const { registry } = params;
  const { store, dir } = await resolveStore(registry, params.storeKey);
  const source = pickVersion(registry, store, params.version);
  // Not a usage error: the request is well formed, the store is already in the state asked for.
  if (source.isLatest) throw new CellarError('already_exists', `Version ${source.version} is already the latest version of ${store.key}; nothing was restored.`);
  const run = registry.startRun({ transform: 'restore', params: { store: store.key, version: source.version }, inputArtifacts: [source.uid] });
  try {
    const writer = await createStoreWriter({ dir, baseVersion: source.version, storeKey: store.key });
    let datasets: unknown;
    try {
      datasets = readManifest(dir, source.version).meta.datasets ?? [];
    } catch (err) {
      await writer.abort();
      throw err;
    }
    const { registered: version } = await commitStoreVersion({
      registry,
      writer,
      runUid: run.uid,
      meta: { runUid: run.uid, transform: 'restore', storeKey: store.key, storeUid: store.uid, restoredFrom: source.version, datasets },
      message: restoreMessage(source.version),
      // The restored version, not the one it supersedes, is the run's input.
      register: (fields) => registry.addStoreVersion(store.stem, { ...fields, previousVersionIsInput: false }),
    });
    return resultJson(version, run.uid);
  } catch (err) {
    registry.failRun(run.uid, err instanceof Error ? err.message : String(err));
    throw err;
  }
}

/** Copies a frame's columns (all rows) through the writer, in row slices. */
async function copyFrame(reader: StoreReader, frame: 'obs' | string, writer: StoreWriter): Promise<void> {
  const source = frame === 'obs' ? reader.obs : reader.var(frame);
  const columns = source.columnNames.filter((n) => n !== 'soma_joinid').map((name) => ({ name, column: source.column(name)! }));
  if (frame === 'obs') await writer.appendObsRows(0, { columns, nRows: source.nRows });
  else await writer.appendVarRows(frame, 0, { columns, nRows: source.nRows });
}

/** Where compact stops, in order (crash tests kill it at each). */
export const COMPACT_STEPS = ['mid-copy', 'before-commit', 'after-commit', 'after-register', 'after-manifests-removed', 'mid-removal', 'after-removal'] as const;

export interface CompactResult extends StoreResultJson {
  removed_files: number;
  dropped_versions: number;
  /** Why old files were left for later (a reader holds them, another writer holds the store); null when all went. */
  deferred: string | null;
}

/**
 * Rewrites the latest version into fresh files and drops every older version. Commit order:
 * new files → new manifest (commit point) → registry (new version and the older ones retired,
 * in one transaction) → old manifests → old files. Old files go only when no reader holds a
 * lease on an old version; otherwise they stay, as leftovers the next compact or verify --fix
 * removes. A kill at any step leaves every registry version readable.
 */
export async function compactStore(params: {
  registry: Registry;
  storeKey: string;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  checkpoint?: (step: (typeof COMPACT_STEPS)[number]) => void | Promise<void>;
  /** Every store write goes through it (tests inject a full disk). */
  fs?: StoreFs;
}): Promise<CompactResult> {
  const { registry, checkpoint } = params;
  const { store, dir } = await resolveStore(registry, params.storeKey);
  const run = registry.startRun({ transform: 'compact', params: { store: store.key, version: store.version }, inputArtifacts: [store.uid] });
  try {
    const reader = openStore(dir, store.version);
    const meta = { ...reader.manifest.meta, runUid: run.uid, transform: 'compact', compactedFrom: store.version };
    let writer: StoreWriter;
    try {
      writer = await createStoreWriter({ dir, baseVersion: null, storeKey: store.key, fs: params.fs });
      try {
        await refuseStaleBase(writer, store.version, store.key, 'it was being compacted');
        await copyFrame(reader, 'obs', writer);
        for (const ms of reader.measurements) {
          await copyFrame(reader, ms, writer);
          for (const layer of reader.layers(ms)) {
            const step = 16_384;
            for (let start = 0; start < reader.nObs; start += step) {
              params.signal?.throwIfAborted();
              const ids = new Uint32Array(Math.min(step, reader.nObs - start)).map((_, i) => start + i);
              const csr = await reader.readXRows(ms, layer, ids);
              const block: CsrBlock = { rowStart: start, nRows: ids.length, nCols: reader.nVars(ms), indptr: csr.indptr, indices: csr.indices, data: csr.data };
              await writer.appendXRows(ms, layer, block);
              params.onProgress?.({ phase: `Rewriting ${matrixName(ms === RAW_MEASUREMENT ? 'raw' : layer === X_LAYER ? 'X' : { layer })}`, done: start + ids.length, total: reader.nObs, unit: 'cells' });
            }
            await checkpoint?.('mid-copy');
          }
          for (const name of reader.obsmNames(ms)) await writer.setObsm(ms, name, await reader.readObsm(ms, name));
          for (const name of reader.varmNames(ms)) await writer.setVarm(ms, name, await reader.readVarm(ms, name));
          // How genes are named and which dataset measured which: facts of the version, kept as they are.
          const genes = reader.manifest.ms[ms]!.genes;
          if (genes) writer.setGeneNaming(ms, genes);
          const presence = reader.presence(ms);
          if (presence) await writer.appendPresenceRows(ms, { columns: presence.columnNames.map((name) => ({ name, column: presence.column(name)! })), nRows: presence.nRows });
          for (const name of reader.obspNames(ms)) {
            const { entry, indices, distances } = await reader.readObsp(ms, name);
            await writer.setObsp(ms, name, { k: entry.k, metric: entry.metric, embedding: entry.embedding, indices, distances });
          }
        }
      } catch (err) {
        await writer.abort();
        throw err;
      }
    } finally {
      reader.close();
    }
    // Until the registry says so, the older versions stay readable: nothing is removed before this.
    const committed = await commitStoreVersion({
      registry,
      writer,
      runUid: run.uid,
      meta,
      message: compactionMessage(Math.min(...registry.versions(store.stem).map((v) => v.version)), store.version),
      checkpoint,
      register: (fields) => ({ version: registry.addStoreVersion(store.stem, { ...fields, previousVersionIsInput: true }), dropped: registry.dropOlderVersions(store.stem) }),
    });
    const { version, dropped } = committed.registered;
    await checkpoint?.('after-register');
    // The compaction is done; a failure removing old files leaves leftovers, not a failed run.
    const removal = await removeVersionsBelow(dir, committed.version, store.key, checkpoint, params.fs).catch((err: unknown) => ({
      removed: 0,
      deferred: `the old files could not be removed (${err instanceof Error ? err.message : String(err)}); verify --fix removes them`,
    }));
    await checkpoint?.('after-removal');
    return { ...resultJson(version, run.uid), removed_files: removal.removed, dropped_versions: dropped.length, deferred: removal.deferred };
  } catch (err) {
    registry.failRun(run.uid, err instanceof Error ? err.message : String(err));
    throw err;
  }
}

/** Readers that may be reading a version older than `version` ("the latest" when they opened could be one). */
function oldVersionReaders(dir: string, version: number): string | null {
  const holders = liveReaderLeases(dir, { removeDead: true }).filter((r) => r.version === null || r.version < version);
  if (!holders.length) return null;
  const pids = [...new Set(holders.map((r) => `${r.pid}${r.host === hostname() ? '' : ` on ${r.host}`}`))];
  return `a reader (pid ${pids.join(', ')}) still holds an older version; the next compact or verify --fix removes its files`;
}

/**
 * Removes the manifests of versions below `version` and every data file no remaining
 * manifest names, under the store lock, unless a reader holds an older version. Readers
 * lease before they read a manifest, so leases are checked before the manifests go and
 * again before the files go.
 */
export async function removeVersionsBelow(
  dir: string,
  version: number,
  storeKey: string,
  checkpoint?: (step: (typeof COMPACT_STEPS)[number]) => void | Promise<void>,
  storeFs: StoreFs = nodeStoreFs,
): Promise<{ removed: number; deferred: string | null }> {
  let lock;
  try {
    lock = acquireStoreLock(storeFs, dir, storeKey);
  } catch (err) {
    if (err instanceof CellarError && err.code === 'locked') return { removed: 0, deferred: 'another process is writing the store; the next compact or verify --fix removes the old files' };
    throw err;
  }
  try {
    let held = oldVersionReaders(dir, version);
    if (held) return { removed: 0, deferred: held };
    const old = listManifestVersions(dir).filter((v) => v < version);
    for (const v of old) {
      storeFs.unlink(join(dir, MANIFEST_DIR, manifestFileName(v)));
      const cached = join(dir, HASH_CACHE_DIR, manifestFileName(v));
      if (existsSync(cached)) storeFs.unlink(cached);
    }
    if (old.length) storeFs.fsyncDir(join(dir, MANIFEST_DIR));
    await checkpoint?.('after-manifests-removed');
    held = oldVersionReaders(dir, version);
    if (held) return { removed: 0, deferred: held };
    // A version another writer committed after ours (before we took the lock) is kept.
    const keep = new Set<string>();
    for (const v of listManifestVersions(dir)) for (const f of referencedFiles(readManifest(dir, v))) keep.add(f);
    let removed = 0;
    for (const name of readdirSync(join(dir, DATA_DIR)).sort()) {
      if (keep.has(`${DATA_DIR}/${name}`)) continue;
      storeFs.unlink(join(dir, DATA_DIR, name));
      if (++removed === 1) await checkpoint?.('mid-removal');
    }
    if (removed) storeFs.fsyncDir(join(dir, DATA_DIR));
    return { removed, deferred: null };
  } finally {
    lock.release();
  }
}

function diffNames(a: string[], b: string[]): { added: string[]; removed: string[] } {
  return { added: b.filter((x) => !a.includes(x)), removed: a.filter((x) => !b.includes(x)) };
}

function describeEntry(c: FrameEntry['columns'][number]): string {
  return c.dtype === 'category' ? `category${c.ordered ? ' (ordered)' : ''}` : c.dtype;
}

function diffFrames(a: FrameEntry, b: FrameEntry): FrameDiff {
  const names = diffNames(a.columns.map((c) => c.name), b.columns.map((c) => c.name));
  const changed: FrameDiff['changed'] = [];
  const newCategories: FrameDiff['new_categories'] = [];
  for (const cb of b.columns) {
    const ca = a.columns.find((c) => c.name === cb.name);
    if (!ca) continue;
    // Pieces may differ (new rows) without the column changing: compare dtypes and categories only.
    if (describeEntry(ca) !== describeEntry(cb)) changed.push({ name: cb.name, from: describeEntry(ca), to: describeEntry(cb) });
    else if (ca.pieces.length === cb.pieces.length && ca.pieces.some((p, i) => p.file !== cb.pieces[i]!.file) && ca.dtype === cb.dtype) changed.push({ name: cb.name, from: 'values', to: 'replaced values' });
    if (cb.categories && ca.categories) {
      const known = new Set(ca.categories.values);
      const fresh = cb.categories.values.filter((v) => !known.has(v));
      if (fresh.length) newCategories.push({ name: cb.name, values: fresh });
    }
  }
  return { ...names, changed, new_categories: newCategories };
}

function describeGraph(g: GraphEntry): string {
  return `k ${g.k}, ${g.metric}, on ${g.embedding}`;
}

/** The graphs of two manifests by name (across measurements, as obsm): added, removed, and changed (other parameters or other stored tables). */
function diffGraphs(a: StoreManifest, b: StoreManifest): GraphDiff {
  const graphs = (m: StoreManifest) => new Map(Object.values(m.ms).flatMap((ms) => Object.entries(ms.obsp ?? {})));
  const ga = graphs(a);
  const gb = graphs(b);
  const names = diffNames([...ga.keys()], [...gb.keys()]);
  const files = (g: GraphEntry) => JSON.stringify([g.indices.pieces.map((p) => p.file), g.distances.pieces.map((p) => p.file)]);
  const changed: GraphDiff['changed'] = [];
  for (const [name, eb] of gb) {
    const ea = ga.get(name);
    if (!ea) continue;
    const from = describeGraph(ea);
    const to = describeGraph(eb);
    if (from !== to) changed.push({ name, from, to });
    else if (files(ea) !== files(eb)) changed.push({ name, from, to: 'recomputed, same parameters' });
  }
  return { ...names, changed };
}

function idColumn(reader: StoreReader, frame: 'obs' | string, column: string): string[] {
  const f = frame === 'obs' ? reader.obs : reader.var(frame);
  const col = f.column(column);
  if (!col) return [];
  return Array.from({ length: f.nRows }, (_, i) => stringAt(col, i) ?? '');
}

export async function diffVersions(params: { registry: Registry; storeKey: string; a: string; b: string }): Promise<StoreDiff> {
  const { registry } = params;
  const { store, dir } = await resolveStore(registry, params.storeKey);
  const va = pickVersion(registry, store, params.a);
  const vb = pickVersion(registry, store, params.b);
  const ra = openStore(dir, va.version);
  const rb = openStore(dir, vb.version);
  try {
    const ma: StoreManifest = ra.manifest;
    const mb: StoreManifest = rb.manifest;
    const measurements = [...new Set([...ra.measurements, ...rb.measurements])];
    const genes: StoreDiff['genes'] = {};
    const varColumns: StoreDiff['var_columns'] = {};
    const layers: StoreDiff['layers'] = {};
    for (const ms of measurements) {
      const ga = ma.ms[ms] ? idColumn(ra, ms, 'var_id') : [];
      const gb = mb.ms[ms] ? idColumn(rb, ms, 'var_id') : [];
      const setA = new Set(ga);
      const setB = new Set(gb);
      genes[ms] = { added: gb.filter((g) => !setA.has(g)), removed: ga.filter((g) => !setB.has(g)) };
      varColumns[ms] = diffFrames(ma.ms[ms]?.var ?? { nRows: 0, columns: [] }, mb.ms[ms]?.var ?? { nRows: 0, columns: [] });
      layers[ms] = diffNames(Object.keys(ma.ms[ms]?.X ?? {}), Object.keys(mb.ms[ms]?.X ?? {}));
    }
    const cellsA = new Set(idColumn(ra, 'obs', 'obs_id'));
    const cellsB = idColumn(rb, 'obs', 'obs_id');
    const setB = new Set(cellsB);
    const filesA = Object.keys(ma.files);
    const filesB = Object.keys(mb.files);
    const obsmA = Object.values(ma.ms).flatMap((m) => Object.keys(m.obsm));
    const obsmB = Object.values(mb.ms).flatMap((m) => Object.keys(m.obsm));
    return {
      store: store.key,
      a: { version: va.version, uid: va.uid, n_obs: ma.obs.nRows, n_vars: Object.fromEntries(Object.entries(ma.ms).map(([k, m]) => [k, m.var.nRows])) },
      b: { version: vb.version, uid: vb.uid, n_obs: mb.obs.nRows, n_vars: Object.fromEntries(Object.entries(mb.ms).map(([k, m]) => [k, m.var.nRows])) },
      cells: { added: cellsB.filter((c) => !cellsA.has(c)).length, removed: [...cellsA].filter((c) => !setB.has(c)).length },
      genes,
      obs_columns: diffFrames(ma.obs, mb.obs),
      var_columns: varColumns,
      obsm: diffNames(obsmA, obsmB),
      obsp: diffGraphs(ma, mb),
      layers,
      files: { ...diffNames(filesA, filesB), shared: filesA.filter((f) => filesB.includes(f)).length },
    };
  } finally {
    ra.close();
    rb.close();
  }
}

export function formatDiff(d: StoreDiff): string {
  const list = (xs: string[]) => (xs.length ? xs.slice(0, 10).join(', ') + (xs.length > 10 ? `, … (${xs.length})` : '') : '—');
  const lines = [
    `${d.store}: version ${d.a.version} → version ${d.b.version}`,
    `  cells: ${d.a.n_obs} → ${d.b.n_obs} (+${d.cells.added}, −${d.cells.removed})`,
  ];
  for (const [ms, g] of Object.entries(d.genes)) lines.push(`  ${ms} genes: ${d.a.n_vars[ms] ?? 0} → ${d.b.n_vars[ms] ?? 0} (added: ${list(g.added)}; removed: ${list(g.removed)})`);
  lines.push(`  obs columns: added ${list(d.obs_columns.added)}; removed ${list(d.obs_columns.removed)}; changed ${list(d.obs_columns.changed.map((c) => `${c.name} (${c.from} → ${c.to})`))}`);
  for (const c of d.obs_columns.new_categories) lines.push(`  new categories in ${c.name}: ${list(c.values.map(String))}`);
  lines.push(`  obsm: added ${list(d.obsm.added)}; removed ${list(d.obsm.removed)}`);
  lines.push(`  obsp graphs: added ${list(d.obsp.added)}; removed ${list(d.obsp.removed)}; changed ${list(d.obsp.changed.map((c) => `${c.name} (${c.from} → ${c.to})`))}`);
  lines.push(`  files: ${d.files.added.length} added, ${d.files.removed.length} removed, ${d.files.shared} shared`);
  return lines.join('\n');
}
