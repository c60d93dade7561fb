// The contract's handlers, written once and served both over Electron IPC (desktop)
// and over HTTP (cellar serve). Plain Node: no electron imports. Long work runs as
// jobs in worker threads, so neither the window nor the server ever freezes.
import { existsSync, mkdirSync, readdirSync, statfsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { CellarError } from '../../shared/errors';
import type { AnnotationPreview, AppInfo, FileKind, DatasetExpression, ExportFile, PlanReport, Events, JobKind, JobResults, JobSnapshot, JsonValue, LibraryListing, OpenedFile, RunDetails, RunItem, StoreColumn, StoreSummary } from '../../shared/contract';
import type { Handlers, Validators } from '../ipc/handle';
import { openRegistry, toVersionJson, type Registry } from '../registry/registry';
import { callInWorker, inspectInWorker, readTimeoutFromEnv } from '../engine/jobs/worker-host';
import { JobRunner, type JobSnapshot as RunnerJob } from '../engine/jobs/runner';
import type { Preflight } from '../engine/ops/append';
import { defaultMeasurement, openQuery, queryObs, queryVar, type OpenedQuery } from '../engine/ops/export';
import { frameToArrow } from '../engine/ops/arrow-frame';
import { diffVersions, restoreVersion } from '../engine/ops/versioning';
import { reconcileHome, resolveStore, resolveVersionRef } from '../engine/ops/store-registry';
import { deleteItem } from '../engine/ops/housekeeping';
import { openStore } from '../engine/store/reader';
import { selectRows } from '../engine/store/query';
import type { ColumnEntry } from '../engine/store/manifest';
import { stringAt, takeRows } from '../engine/ops/convert';
import type { Column } from '../engine/h5ad/types';
import type { StoreReader } from '../engine/store/reader';
import type { WorkerResults } from './job-entry';
import { deHandlers, deValidators } from './de-service';

export interface ServiceOptions {
  home: string;
  /** Why the home is where it is, when it was adopted from an older location. */
  homeNote?: string | null;
  mode: AppInfo['mode'];
  version: string;
  /** Opaque token → path of a file the user opened (dialog, drop, OS, upload). */
  files: Map<string, string>;
  /** Pushes an event to every window / browser. */
  emit?: <E extends keyof Events>(event: E, payload: Events[E]) => void;
  /** Desktop: the native open dialog. Browser mode has none (files are uploaded). */
  chooseFiles?: (kind: FileKind) => Promise<string[]>;
  /** Desktop: the native save dialog; null when cancelled. Browser mode writes into the home. */
  chooseSavePath?: (defaultName: string) => Promise<string | null>;
  /** Registers a finished export for download (browser mode). */
  offerDownload?: (path: string) => string;
  readTimeoutMs?: number;
  /** Desktop: files the OS opened before the page listened; taking them means the page listens now. */
  takePendingFiles?: () => OpenedFile[];
}

const MAX_WINDOW_ROWS = 5_000;

export interface Service {
  handlers: Handlers;
  validators: Validators;
  jobs: JobRunner;
  close(): void;
}

/**
 * An export's file name from the store key and version: one path segment whatever the
 * key holds (`lab/pbmc` becomes `lab_pbmc`, `../x` cannot leave the exports folder).
 */
export function exportFileName(storeKey: string, version: string | undefined, format: string): string {
  const stem = `${storeKey}${version ? `-v${version}` : ''}`.replace(/[^\p{L}\p{N}._-]+/gu, '_').replace(/^[._]+/, '');
  return `${stem || 'store'}-slice.${format}`;
}

export function createService(options: ServiceOptions): Service {
  const readTimeoutMs = () => options.readTimeoutMs ?? readTimeoutFromEnv();
  let registry: Registry | null = null;
  const db = () => (registry ??= openRegistry(options.home));
  const emit = options.emit ?? (() => undefined);
  // Cancel stops the worker through its own controller, not the runner's: a worker that
  // still returns a result had already written it, and the job then reports completed.
  const stoppers = new Map<string, AbortController>();
  const jobs = new JobRunner((e) => {
    if (e.type === 'finished') stoppers.delete(e.job.id);
    emit(e.type === 'progress' ? 'job:progress' : 'job:finished', asContractJob(e.job));
    if (e.type === 'finished' && e.job.state === 'completed') emit('library:changed', { reason: e.job.kind });
  });

  // One download reference per export file, however often the list is asked for.
  const offered = new Map<string, string>();
  const exportsDir = () => join(options.home, 'exports');
  const changed = (reason: string) => emit('library:changed', { reason });

  const pathOf = (token: string): string => {
    const path = options.files.get(token);
    if (!path) throw new CellarError('not_found', 'That file is no longer open; choose it again.');
    return path;
  };
  const registerFile = (path: string): OpenedFile => {
    const fileToken = `f-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    options.files.set(fileToken, path);
    return { fileToken, name: path.split(/[\\/]/).pop() ?? path, size: statSync(path).size };
  };

  // The worker runs job-entry's runJob, whose runners are typed per kind: it returns WorkerResults[K].
  function startJob(kind: Exclude<JobKind, 'export'>, title: string, params: Record<string, unknown>): JobSnapshot;
  function startJob(kind: 'export', title: string, params: Record<string, unknown>, after: (result: WorkerResults['export']) => JobResults['export']): JobSnapshot;
  function startJob(kind: JobKind, title: string, params: Record<string, unknown>, after?: (result: WorkerResults['export']) => JobResults['export']): JobSnapshot {
    const stop = new AbortController();
    const job = jobs.start(kind, title, async ({ signal, onProgress }) => {
      signal.addEventListener('abort', () => stop.abort());
      const result = await callInWorker<WorkerResults[JobKind]>('runJob', [options.home, kind, params], {
        timeoutMs: 7 * 24 * 3600 * 1000,
        signal: stop.signal,
        onProgress: (p) => onProgress(p as { phase: string; done: number; total: number }),
        what: title.toLowerCase(),
      });
      return after ? after(result as WorkerResults['export']) : result;
    });
    if (job.state === 'running') stoppers.set(job.id, stop);
    return asContractJob(job);
  }

  const withQuery = async <T>(request: { storeKey: string; version?: string; obs?: string; var?: string }, work: (q: OpenedQuery) => T | Promise<T>): Promise<T> => {
    const q = await openQuery({ registry: db(), storeKey: request.storeKey, version: request.version, obs: request.obs, var: request.var });
    try {
      return await work(q);
    } finally {
      q.reader.close();
    }
  };

  const arrowWindow = (frame: ReturnType<typeof queryObs>, idColumn: string, offset: number, limit: number) => {
    const total = frame.index.length;
    const start = Math.max(0, Math.min(offset, total));
    const end = Math.min(total, start + Math.min(limit, MAX_WINDOW_ROWS));
    const rows = new Uint32Array(end - start).map((_, i) => start + i);
    const slice = { indexName: frame.indexName, index: frame.index.slice(start, end), columns: frame.columns.map((c) => ({ name: c.name, column: takeRows(c.column, rows) })) };
    return { total, offset: start, arrow: tableToIPC(frameToArrow(slice, idColumn), 'stream') };
  };

  const handlers: Handlers = {
    'app:info': () => ({ name: 'Cellar', version: options.version, home: options.home, homeNote: options.homeNote ?? null, mode: options.mode }),
    // Runs of a process that died (a killed CLI command) end, and its committed work is registered, before anything is shown.
    'library:list': async () => {
      await reconcileHome(db());
      return listLibrary(db());
    },
    'file:choose': async (request) => {
      if (!options.chooseFiles) throw new CellarError('usage', 'In the browser, add files by dropping them on the Library or with the upload button.');
      return (await options.chooseFiles(request?.kind ?? 'h5ad')).map(registerFile);
    },
    'file:pending': () => options.takePendingFiles?.() ?? [],
    'file:inspect': async ({ fileToken }) => {
      const path = pathOf(fileToken);
      return inspectInWorker(path, { timeoutMs: options.readTimeoutMs });
    },
    'import:start': ({ fileTokens, collectionKey, description }) => startJob('import', `Import into ${collectionKey}`, { files: fileTokens.map(pathOf), collectionKey, description }),
    // Both read h5ad files: in a worker under the read time limit, never on the main thread.
    'concat:plan': ({ collectionKey, makeUnique }) => {
      const members = db().getCollection(collectionKey).members.length;
      return callInWorker<PlanReport>('planConcatenation', [options.home, collectionKey, !!makeUnique], { timeoutMs: readTimeoutMs() * Math.max(1, members), what: `planning the concatenation of ${collectionKey}` });
    },
    'concat:start': ({ collectionKey, storeKey, makeUnique }) => startJob('concatenate', `Concatenate ${collectionKey} into ${storeKey}`, { collectionKey, storeKey, makeUnique }),
    'store:summary': async ({ storeKey, version }) => {
      const { store, dir } = await resolveStore(db(), storeKey);
      const record = resolveVersionRef(db(), store, version);
      const reader = openStore(dir, record.version);
      try {
        const ms = defaultMeasurement(reader);
        const m = reader.manifest.ms[ms]!;
        const col = (c: ColumnEntry): StoreColumn => ({ name: c.name, dtype: c.dtype, ...(c.categories ? { categories: c.categories.values } : {}), ...(c.ordered ? { ordered: true } : {}) });
        const summary: StoreSummary = {
          uid: record.uid,
          key: record.key,
          version: record.version,
          isLatest: record.isLatest,
          nObs: reader.nObs,
          nVars: reader.nVars(ms),
          measurement: ms,
          obs: reader.manifest.obs.columns.map(col),
          var: m.var.columns.map(col),
          layers: Object.keys(m.X),
          obsm: Object.entries(m.obsm).map(([name, e]) => ({ name, width: e.nCols })),
          datasets: datasetsOf(reader),
        };
        return summary;
      } finally {
        reader.close();
      }
    },
    'store:count': (r) => withQuery(r, (q) => ({ nObs: q.selection.obsJoinids.length, nVars: q.selection.varJoinids.length })),
    'store:obs-window': (r) => withQuery(r, (q) => arrowWindow(queryObs(q), 'obs_id', r.offset, r.limit)),
    'store:var-window': (r) => withQuery(r, (q) => arrowWindow(queryVar(q), 'var_id', r.offset, r.limit)),
    'export:start': async (r) => {
      const defaultName = exportFileName(r.storeKey, r.version, r.format);
      let out: string | null;
      if (options.chooseSavePath) out = await options.chooseSavePath(defaultName);
      else {
        const dir = exportsDir();
        mkdirSync(dir, { recursive: true });
        out = join(dir, `${Date.now().toString(36)}-${defaultName}`);
      }
      if (!out) throw new CellarError('cancelled', 'Export cancelled.');
      const target = out;
      return startJob('export', `Export ${r.storeKey}`, { ...r, out: target }, (result) => ({ ...result, download: options.offerDownload?.(target) ?? null }));
    },
    'append:preflight': ({ storeKey, fileTokens, fillMissing, addColumns, makeUnique }) =>
      callInWorker<Preflight>('preflightAppend', [options.home, { storeKey, files: fileTokens.map(pathOf), fillMissing, addColumns, makeUnique, readTimeoutMs: options.readTimeoutMs }], {
        timeoutMs: readTimeoutMs() * Math.max(1, fileTokens.length) + 60_000,
        what: `checking the files to append to ${storeKey}`,
      }),
    'append:start': ({ storeKey, fileTokens, fillMissing, addColumns, makeUnique }) => startJob('append', `Append to ${storeKey}`, { storeKey, files: fileTokens.map(pathOf), fillMissing, addColumns, makeUnique }),
    'embed:start': ({ storeKey, nComponents, layer, normalize, genes, seed, name }) =>
      startJob('embed', `PCA of ${storeKey}`, { storeKey, name, pca: { nComponents, layer, normalize, genes, seed } }),
    'embedding:points': async ({ storeKey, version, name }) => {
      const { store, dir } = await resolveStore(db(), storeKey);
      const record = resolveVersionRef(db(), store, version);
      const reader = openStore(dir, record.version);
      try {
        const dense = await reader.readObsm(defaultMeasurement(reader), name);
        const f32 = dense.values instanceof Float32Array ? dense.values : Float32Array.from(dense.values as ArrayLike<number>);
        return { n: dense.shape[0], k: dense.shape[1], values: new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength) };
      } finally {
        reader.close();
      }
    },
    'embedding:colors': async ({ storeKey, version, obsColumn, gene }) => {
      const { store, dir } = await resolveStore(db(), storeKey);
      const record = resolveVersionRef(db(), store, version);
      const reader = openStore(dir, record.version);
      try {
        const ms = defaultMeasurement(reader);
        if (gene) {
          const joinids = selectRows(reader.var(ms), `var_id == ${JSON.stringify(gene)}`);
          if (!joinids.length) throw new CellarError('not_found', `There is no gene ${gene} in ${store.key}.`);
          const csc = await reader.readXColumns(ms, 'data', joinids.subarray(0, 1));
          const values = new Float32Array(reader.nObs);
          for (let i = 0; i < csc.indices.length; i++) values[csc.indices[i]!] = Number(csc.data[i]);
          let max = 0;
          for (const v of values) if (v > max) max = v;
          return { kind: 'numeric', values: new Uint8Array(values.buffer), min: 0, max, byDataset: expressionByDataset(reader, values) };
        }
        const column = obsColumn ? reader.obs.column(obsColumn) : undefined;
        if (!column) throw new CellarError('unknown_column', `There is no obs column ${obsColumn ?? ''} in ${store.key}.`);
        if (column.kind === 'category' || column.kind === 'string' || column.kind === 'nullable-string' || column.kind === 'bool' || column.kind === 'nullable-bool') {
          const labels = new Map<string, number>();
          const codes = new Int32Array(reader.nObs);
          for (let i = 0; i < reader.nObs; i++) {
            const s = stringAt(column, i);
            if (s === null) codes[i] = -1;
            else {
              let c = labels.get(s);
              if (c === undefined) labels.set(s, (c = labels.size));
              codes[i] = c;
            }
          }
          return { kind: 'category', codes: new Uint8Array(codes.buffer), categories: [...labels.keys()] };
        }
        const values = new Float32Array(reader.nObs);
        let min = Infinity;
        let max = -Infinity;
        for (let i = 0; i < reader.nObs; i++) {
          const s = stringAt(column, i);
          const v = s === null ? NaN : Number(s);
          values[i] = v;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        return { kind: 'numeric', values: new Uint8Array(values.buffer), min: Number.isFinite(min) ? min : 0, max: Number.isFinite(max) ? max : 0 };
      } finally {
        reader.close();
      }
    },
    'versions:list': async ({ storeKey }) => {
      const { store } = await resolveStore(db(), storeKey);
      return db().versions(store.stem).map(toVersionJson);
    },
    'versions:diff': ({ storeKey, a, b }) => diffVersions({ registry: db(), storeKey, a, b }),
    'versions:restore': async ({ storeKey, version }) => {
      const r = await restoreVersion({ registry: db(), storeKey, version });
      emit('library:changed', { reason: 'restore' });
      return r;
    },
    'lineage:get': async ({ ref }) => {
      await reconcileHome(db());
      return db().lineage(ref);
    },
    'run:get': ({ uid }) => runDetails(db(), uid),
    'jobs:list': () => jobs.list().map(asContractJob),
    'jobs:cancel': ({ id }) => {
      if (jobs.get(id).state === 'running') stoppers.get(id)?.abort();
      return asContractJob(jobs.get(id));
    },
    'artifact:delete': async ({ ref, force }) => {
      // A run killed mid-write is not a user of its inputs: end it first so it does not block the delete.
      await reconcileHome(db());
      const r = await deleteItem(db(), options.home, ref, !!force);
      changed('delete');
      return {
        deleted: r.deleted.map((d) => (d.kind === 'artifact' ? { kind: d.kind, uid: d.uid, key: d.key, version: d.version } : { kind: d.kind, uid: d.uid, key: d.key })),
        overridden: r.overridden,
        removedFiles: new Set(r.removedFiles).size,
      };
    },
    'artifact:rename': ({ ref, newKey }) => {
      const renamed = db().rename(ref, newKey.trim());
      changed('rename');
      return renamed;
    },
    'artifact:inspect': ({ ref }) => {
      const artifact = db().findArtifact(ref);
      if (!artifact || artifact.deletedAt !== null) throw new CellarError('not_found', `There is no file called ${ref} in the Library.`);
      if (artifact.kind !== 'h5ad') throw new CellarError('usage', `${artifact.key} is a store, not a file: open it on the Store screen.`);
      if (!existsSync(artifact.storagePath)) throw new CellarError('not_found', `The file of ${artifact.key} is missing from ${artifact.storagePath}.`);
      return { ...registerFile(artifact.storagePath), name: artifact.key, artifactKey: artifact.key };
    },
    'store:verify': ({ storeKey, fix }) => {
      const store = db().getStore(storeKey);
      return startJob('verify', `${fix ? 'Repair' : 'Verify'} ${store.key}`, { storeKey: store.key, fix: !!fix });
    },
    'store:compact': ({ storeKey, confirm }) => {
      const store = db().getStore(storeKey);
      if (confirm !== true) throw new CellarError('usage', `Compacting ${store.key} drops every older version; confirm to go ahead.`);
      return startJob('compact', `Compact ${store.key}`, { storeKey: store.key });
    },
    'annotate:preview': ({ storeKey, fileToken }) =>
      callInWorker<AnnotationPreview>('previewAnnotation', [options.home, storeKey, pathOf(fileToken)], { timeoutMs: readTimeoutMs(), what: `reading the annotation table for ${storeKey}` }),
    'annotate:start': ({ storeKey, fileToken }) => {
      const from = pathOf(fileToken);
      return startJob('annotate', `Annotate ${storeKey} from ${basename(from)}`, { storeKey, from });
    },
    'collection:remove-member': ({ collectionKey, member }) => {
      const { collection } = db().removeCollectionMember(collectionKey, member);
      changed('collection');
      return { collection: { uid: collection.uid, key: collection.key }, members: collection.members.map((m) => m.key) };
    },
    'export:list': () => {
      if (!options.offerDownload || !existsSync(exportsDir())) return [];
      const offer = options.offerDownload;
      const list: ExportFile[] = readdirSync(exportsDir(), { withFileTypes: true })
        .filter((e) => e.isFile() && !e.name.endsWith('.partial'))
        .map((e) => {
          const path = join(exportsDir(), e.name);
          const st = statSync(path);
          let download = offered.get(path);
          if (!download) offered.set(path, (download = offer(path)));
          // Stored as "<time>-<name>": the user knows the file by its name.
          return { name: e.name.replace(/^[0-9a-z]+-/, ''), size: st.size, createdAt: st.mtime.toISOString(), download };
        });
      return list.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    },
    ...deHandlers({ home: options.home, startJob, chooseSavePath: options.chooseSavePath, offerDownload: options.offerDownload }),
    'space:check': ({ collectionKey, storeKey, fileTokens }) => {
      let needed = 0;
      if (collectionKey) for (const m of db().getCollection(collectionKey).members) needed += m.size;
      if (storeKey) needed += db().getStore(storeKey).size;
      for (const t of fileTokens ?? []) needed += statSync(pathOf(t)).size * 2;
      mkdirSync(options.home, { recursive: true });
      const fsStats = statfsSync(options.home);
      return { neededBytes: needed, freeBytes: fsStats.bavail * fsStats.bsize };
    },
  };

  return {
    handlers,
    validators: makeValidators(),
    jobs,
    close: () => {
      registry?.close();
      registry = null;
    },
  };
}

/** The runner keeps results untyped; startJob typed each one by its kind when the job began. */
function asContractJob(job: RunnerJob): JobSnapshot {
  return job as JobSnapshot;
}

function listLibrary(registry: Registry): LibraryListing {
  const listing = registry.list();
  return {
    ...listing,
    collections: listing.collections.map((c) => ({
      ...c,
      members: registry.getCollection(c.uid).members.map((m) => ({
        uid: m.uid,
        key: m.key,
        version: m.version,
        nObservations: m.nObservations,
        nVars: m.nVars,
        size: m.size,
        deleted: m.deletedAt !== null,
      })),
    })),
  };
}

function runDetails(registry: Registry, uid: string): RunDetails {
  const run = registry.getRun(uid);
  const artifactItem = (ref: string): RunItem => {
    const a = registry.findArtifact(ref);
    if (!a) return { uid: ref, kind: 'artifact', key: ref, deleted: true };
    return { uid: a.uid, kind: 'artifact', key: a.key, artifactKind: a.kind, version: a.version, isLatest: a.isLatest, deleted: a.deletedAt !== null };
  };
  const collectionItem = (ref: string): RunItem => {
    const c = registry.findCollection(ref);
    return c ? { uid: c.uid, kind: 'collection', key: c.key, deleted: c.deletedAt !== null } : { uid: ref, kind: 'collection', key: ref, deleted: true };
  };
  return {
    uid: run.uid,
    transform: { name: run.transform.name, version: run.transform.version },
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    // Stored as JSON text by the registry, so every value is JSON.
    params: run.params as Record<string, JsonValue>,
    error: run.error,
    inputs: [...run.inputs.collections.map(collectionItem), ...run.inputs.artifacts.map(artifactItem)],
    outputs: [...run.outputs.collections.map(collectionItem), ...run.outputs.artifacts.map(artifactItem)],
  };
}

/** The files a store version was made from, as its manifest recorded them. */
function datasetsOf(reader: StoreReader): StoreSummary['datasets'] {
  const recorded = reader.manifest.meta.datasets;
  if (!Array.isArray(recorded)) return [];
  return recorded
    .filter((d): d is { position: number; key: string; uid: string } => !!d && typeof d === 'object' && typeof d.position === 'number' && typeof d.key === 'string' && typeof d.uid === 'string')
    .map(({ position, key, uid }) => ({ position, key, uid }));
}

/** Per dataset (obs column "dataset"): how many cells, how many express the gene, the highest value. */
function expressionByDataset(reader: StoreReader, values: Float32Array): DatasetExpression[] | undefined {
  const column: Column | undefined = reader.obs.column('dataset');
  if (!column) return undefined;
  const keys = new Map(datasetsOf(reader).map((d) => [d.position, d.key]));
  const groups = new Map<number, DatasetExpression>();
  for (let i = 0; i < values.length; i++) {
    const position = Number(stringAt(column, i));
    let g = groups.get(position);
    if (!g) groups.set(position, (g = { position, key: keys.get(position) ?? null, nCells: 0, nExpressing: 0, max: 0 }));
    g.nCells++;
    const v = values[i]!;
    if (v > 0) g.nExpressing++;
    if (v > g.max) g.max = v;
  }
  return [...groups.values()].sort((a, b) => a.position - b.position);
}

// ── payload validation: every field checked before a handler runs ─────────────

type Shape = Record<string, 'string' | 'string?' | 'number' | 'number?' | 'boolean' | 'boolean?' | 'strings' | 'strings?'>;

export function check<T>(channel: string, shape: Shape, extra?: (p: Record<string, unknown>) => void): (payload: unknown) => T {
  return (payload) => {
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new CellarError('usage', `${channel} needs an object payload.`);
    const p = payload as Record<string, unknown>;
    for (const [field, kind] of Object.entries(shape)) {
      const v = p[field];
      const optional = kind.endsWith('?');
      if (v === undefined && optional) continue;
      const base = kind.replace('?', '');
      const ok = base === 'strings' ? Array.isArray(v) && v.every((x) => typeof x === 'string') : base === 'number' ? typeof v === 'number' && Number.isFinite(v) : base === 'boolean' ? typeof v === 'boolean' : typeof v === 'string' && v.length > 0;
      if (!ok) throw new CellarError('usage', `${channel}: "${field}" must be ${base === 'strings' ? 'a list of strings' : `a ${base}`}.`);
    }
    for (const field of Object.keys(p)) if (!(field in shape)) throw new CellarError('usage', `${channel}: unexpected field "${field}".`);
    extra?.(p);
    return p as T;
  };
}

const none = () => undefined;
const storeRef: Shape = { storeKey: 'string', version: 'string?' };

function makeValidators(): Validators {
  return {
    'app:info': none,
    'library:list': none,
    'file:choose': (payload) => {
      if (payload === undefined || payload === null) return undefined;
      const p = check<{ kind?: FileKind }>('file:choose', { kind: 'string?' })(payload);
      if (p.kind !== undefined && p.kind !== 'h5ad' && p.kind !== 'table') throw new CellarError('usage', 'file:choose: "kind" must be h5ad or table.');
      return p;
    },
    'file:pending': none,
    'file:inspect': check('file:inspect', { fileToken: 'string' }),
    'import:start': check('import:start', { fileTokens: 'strings', collectionKey: 'string', description: 'string?' }),
    'concat:plan': check('concat:plan', { collectionKey: 'string', makeUnique: 'boolean?' }),
    'concat:start': check('concat:start', { collectionKey: 'string', storeKey: 'string', makeUnique: 'boolean?' }),
    'store:summary': check('store:summary', storeRef),
    'store:count': check('store:count', { ...storeRef, obs: 'string?', var: 'string?' }),
    'store:obs-window': check('store:obs-window', { ...storeRef, obs: 'string?', offset: 'number', limit: 'number' }),
    'store:var-window': check('store:var-window', { ...storeRef, var: 'string?', offset: 'number', limit: 'number' }),
    'export:start': check('export:start', { ...storeRef, obs: 'string?', var: 'string?', layer: 'string?', format: 'string' }, (p) => {
      if (p.format !== 'h5ad' && p.format !== 'csv') throw new CellarError('usage', 'export:start: "format" must be h5ad or csv.');
    }),
    'append:preflight': check('append:preflight', { storeKey: 'string', fileTokens: 'strings', fillMissing: 'boolean?', addColumns: 'boolean?', makeUnique: 'boolean?' }),
    'append:start': check('append:start', { storeKey: 'string', fileTokens: 'strings', fillMissing: 'boolean?', addColumns: 'boolean?', makeUnique: 'boolean?' }),
    'embed:start': check('embed:start', { storeKey: 'string', nComponents: 'number', layer: 'string?', normalize: 'boolean?', genes: 'number?', seed: 'number?', name: 'string?' }),
    'embedding:points': check('embedding:points', { ...storeRef, name: 'string' }),
    'embedding:colors': check('embedding:colors', { ...storeRef, obsColumn: 'string?', gene: 'string?' }),
    'versions:list': check('versions:list', { storeKey: 'string' }),
    'versions:diff': check('versions:diff', { storeKey: 'string', a: 'string', b: 'string' }),
    'versions:restore': check('versions:restore', { storeKey: 'string', version: 'string' }),
    'lineage:get': check('lineage:get', { ref: 'string' }),
    'run:get': check('run:get', { uid: 'string' }),
    'jobs:list': none,
    'jobs:cancel': check('jobs:cancel', { id: 'string' }),
    'space:check': check('space:check', { collectionKey: 'string?', storeKey: 'string?', fileTokens: 'strings?' }),
    'artifact:delete': check('artifact:delete', { ref: 'string', force: 'boolean?' }),
    'artifact:rename': check('artifact:rename', { ref: 'string', newKey: 'string' }),
    'artifact:inspect': check('artifact:inspect', { ref: 'string' }),
    'store:verify': check('store:verify', { storeKey: 'string', fix: 'boolean?' }),
    'store:compact': check('store:compact', { storeKey: 'string', confirm: 'boolean' }),
    'annotate:preview': check('annotate:preview', { storeKey: 'string', fileToken: 'string' }),
    'annotate:start': check('annotate:start', { storeKey: 'string', fileToken: 'string' }),
    'collection:remove-member': check('collection:remove-member', { collectionKey: 'string', member: 'string' }),
    'export:list': none,
    ...deValidators(check),
  };
}
