// What every feature's handlers share: the options the app or `cellar serve` gave, the
// registry (opened on first use), file tokens, events and the job runner.
import { CellarError } from '../../../shared/errors';
import type { AppInfo, Events, FileKind, JobKind, JobResults, JobSnapshot, OpenedFile, Progress } from '../../../shared/contract';
import { openRegistry, type Registry } from '../../registry/registry';
import { callInWorker, readTimeoutFromEnv } from '../../engine/threads/worker-call';
import { JobRunner, type UntypedJobSnapshot } from '../../engine/jobs/runner';
import type { WorkerResults } from '../job-entry';
import { registerFileToken } from '../file-tokens';

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

export interface ServiceContext {
  options: ServiceOptions;
  /** The registry, opened on first use. */
  db(): Registry;
  /** The read time limit: the option, or the environment's. */
  readTimeoutMs(): number;
  emit<E extends keyof Events>(event: E, payload: Events[E]): void;
  /** Tells every window the library changed. */
  changed(reason: string): void;
  /** The path behind a file token, or a not_found the user can act on. */
  pathOf(token: string): string;
  /** Opens a file for the page: a new token for its path. */
  registerFile(path: string): OpenedFile;
  jobs: JobRunner;
  /** Cancels a running job's worker. */
  stopJob(id: string): void;
  startJob(kind: Exclude<JobKind, 'export'>, title: string, params: Record<string, unknown>): JobSnapshot;
  startJob(kind: 'export', title: string, params: Record<string, unknown>, after: (result: WorkerResults['export']) => JobResults['export']): JobSnapshot;
  close(): void;
}

/** The runner keeps results untyped; startJob typed each one by its kind when the job began. */
export function asContractJob(job: UntypedJobSnapshot): JobSnapshot {
  return job as JobSnapshot;
}

export function createServiceContext(options: ServiceOptions): ServiceContext {
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
        onProgress: (p) => onProgress(p as Progress),
        what: title.toLowerCase(),
      });
      return after ? after(result as WorkerResults['export']) : result;
    });
    if (job.state === 'running') stoppers.set(job.id, stop);
    return asContractJob(job);
  }

  return {
    options,
    db,
    readTimeoutMs: () => options.readTimeoutMs ?? readTimeoutFromEnv(),
    emit,
    changed: (reason) => emit('library:changed', { reason }),
    pathOf: (token) => {
      const path = options.files.get(token);
      if (!path) throw new CellarError('not_found', 'That file is no longer open; choose it again.');
      return path;
    },
    registerFile: (path) => registerFileToken(options.files, path),
    jobs,
    stopJob: (id) => stoppers.get(id)?.abort(),
    startJob,
    close: () => {
      registry?.close();
      registry = null;
    },
  };
}
