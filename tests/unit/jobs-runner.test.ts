import { describe, expect, it } from 'vitest';
import { JobRunner, type JobEvent } from '../../src/main/engine/jobs/runner';
import { CellarError } from '../../src/shared/errors';

describe('JobRunner', () => {
  it('returns an id at once, streams progress and ends completed with the result', async () => {
    const events: JobEvent[] = [];
    const runner = new JobRunner((e) => events.push(e), 0);
    const job = runner.start('concatenate', 'Concatenate pbmc', async ({ onProgress }) => {
      for (let i = 0; i <= 3; i++) onProgress({ phase: 'X', done: i, total: 3 });
      return { version: 1 };
    });
    expect(job.state).toBe('running');
    const final = await runner.wait(job.id);
    expect(final.state).toBe('completed');
    expect(final.result).toEqual({ version: 1 });
    expect(events.filter((e) => e.type === 'progress').map((e) => e.job.progress?.done)).toEqual([0, 1, 2, 3]);
    expect(events.at(-1)).toMatchObject({ type: 'finished', job: { state: 'completed' } });
  });
  it('throttles intermediate progress but keeps the first and last step', async () => {
    const events: JobEvent[] = [];
    const runner = new JobRunner((e) => events.push(e), 60_000);
    const job = runner.start('x', 'x', async ({ onProgress }) => {
      for (let i = 0; i <= 100; i++) onProgress({ phase: 'p', done: i, total: 100 });
    });
    await runner.wait(job.id);
    expect(events.filter((e) => e.type === 'progress').map((e) => e.job.progress?.done)).toEqual([0, 100]);
  });
  it('cancels through the AbortSignal and ends cancelled', async () => {
    const runner = new JobRunner(() => undefined);
    const job = runner.start('embed', 'PCA', ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))));
    runner.cancel(job.id);
    const final = await runner.wait(job.id);
    expect(final.state).toBe('cancelled');
    expect(final.error).toEqual({ code: 'cancelled', message: 'PCA was cancelled.' });
  });
  it('a cancel that comes after the work has finished leaves the job completed with its result', async () => {
    const runner = new JobRunner(() => undefined);
    let finishWork: (value: { version: number }) => void = () => undefined;
    const job = runner.start('append', 'Append', () => new Promise((resolve) => (finishWork = resolve)));
    // The work ignores the signal: it is past the point where it could stop (its version is committed).
    runner.cancel(job.id);
    finishWork({ version: 2 });
    const final = await runner.wait(job.id);
    expect(final.state).toBe('completed');
    expect(final.result).toEqual({ version: 2 });
  });
  it('keeps the error value of a failed job and lists jobs for a reloaded window', async () => {
    const runner = new JobRunner(() => undefined);
    const job = runner.start('append', 'Append', async () => {
      throw new CellarError('preflight_failed', 'The files do not fit the store.', ['obs column "age" is int32 in the store and string in new.h5ad']);
    });
    const final = await runner.wait(job.id);
    expect(final.state).toBe('failed');
    expect(final.error).toEqual({ code: 'preflight_failed', message: 'The files do not fit the store.', problems: ['obs column "age" is int32 in the store and string in new.h5ad'] });
    expect(runner.list().map((j) => j.id)).toEqual([job.id]);
    expect(() => runner.get('nope')).toThrow(/No job nope/);
  });
});
