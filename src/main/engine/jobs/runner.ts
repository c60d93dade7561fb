// Long work (import, concatenate, append, PCA, export) runs as a job: it gets an id
// at once, streams throttled progress, can be cancelled through an AbortSignal and
// ends in exactly one terminal state. Jobs outlive the window that started them,
// so a reloaded renderer can list them and re-attach.
import { randomUUID } from 'node:crypto';
import { CellarError, toErrorValue } from '../../../shared/errors';
import type { JobSnapshotBase, Progress } from '../../../shared/contract';

/** The contract's job snapshot with kind and result left open: the runner runs any work. */
export type UntypedJobSnapshot = JobSnapshotBase & { kind: string; result?: unknown };

export type JobEvent = { type: 'progress' | 'finished'; job: UntypedJobSnapshot };

export interface JobContext {
  signal: AbortSignal;
  onProgress(progress: Progress): void;
}

interface JobEntry {
  snapshot: UntypedJobSnapshot;
  controller: AbortController;
  done: Promise<void>;
  lastEmit: number;
}

export class JobRunner {
  private readonly jobs = new Map<string, JobEntry>();

  constructor(
    private readonly emit: (event: JobEvent) => void,
    private readonly throttleMs = 100,
    private readonly keepFinished = 50,
  ) {}

  start<T>(kind: string, title: string, work: (ctx: JobContext) => Promise<T>): UntypedJobSnapshot {
    const id = randomUUID();
    const controller = new AbortController();
    const snapshot: UntypedJobSnapshot = { id, kind, title, state: 'running', progress: null, startedAt: new Date().toISOString(), finishedAt: null };
    const entry: JobEntry = { snapshot, controller, done: Promise.resolve(), lastEmit: 0 };
    this.jobs.set(id, entry);
    const onProgress = (progress: Progress) => {
      if (snapshot.state !== 'running') return;
      snapshot.progress = progress;
      const now = Date.now();
      // Throttle, but never drop the first or last step of a phase.
      if (now - entry.lastEmit < this.throttleMs && progress.done !== 0 && progress.done < progress.total) return;
      entry.lastEmit = now;
      this.emit({ type: 'progress', job: { ...snapshot } });
    };
    entry.done = (async () => {
      try {
        const result = await work({ signal: controller.signal, onProgress });
        // Work that returns has finished (a store version may be committed): a cancel that came
        // too late to stop it does not make it cancelled.
        snapshot.state = 'completed';
        snapshot.result = result;
      } catch (err) {
        const error = toErrorValue(err);
        snapshot.state = controller.signal.aborted || error.code === 'cancelled' ? 'cancelled' : 'failed';
        snapshot.error = snapshot.state === 'cancelled' ? { code: 'cancelled', message: `${title} was cancelled.` } : error;
      }
      snapshot.finishedAt = new Date().toISOString();
      this.emit({ type: 'finished', job: { ...snapshot } });
      this.prune();
    })();
    return { ...snapshot };
  }

  cancel(id: string): UntypedJobSnapshot {
    const entry = this.jobs.get(id);
    if (!entry) throw new CellarError('not_found', `No job ${id}.`);
    if (entry.snapshot.state === 'running') entry.controller.abort();
    return { ...entry.snapshot };
  }

  get(id: string): UntypedJobSnapshot {
    const entry = this.jobs.get(id);
    if (!entry) throw new CellarError('not_found', `No job ${id}.`);
    return { ...entry.snapshot };
  }

  list(): UntypedJobSnapshot[] {
    return [...this.jobs.values()].map((e) => ({ ...e.snapshot }));
  }

  running(): UntypedJobSnapshot[] {
    return this.list().filter((j) => j.state === 'running');
  }

  /** Resolves when the job has reached its terminal state. */
  async wait(id: string): Promise<UntypedJobSnapshot> {
    const entry = this.jobs.get(id);
    if (!entry) throw new CellarError('not_found', `No job ${id}.`);
    await entry.done;
    return { ...entry.snapshot };
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((e) => e.snapshot.state !== 'running');
    for (const e of finished.slice(0, Math.max(0, finished.length - this.keepFinished))) this.jobs.delete(e.snapshot.id);
  }
}
