// Untrusted files are read in a worker thread under a time limit; several files share one worker.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { callInWorker, closeIdleThreads } from '../../src/main/engine/threads/worker-call';
import { inspectAllInWorker } from '../../src/main/engine/formats/inspect-in-worker';
import { inspectFile } from '../../src/main/engine/formats/h5ad/inspect-file';
import { CellarError } from '../../src/shared/errors';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const SLOW = { module: join(import.meta.dirname, 'helpers', 'slow-steps.ts'), exportName: 'slowSteps' };

describe('inspectAllInWorker', () => {
  it('returns every file’s summary, in order, the same as reading each one directly', async () => {
    const paths = ['one_cell', 'raw', 'obs_categoricals'].map((name) => join(FIXTURES, 'h5ad', `${name}.h5ad`));
    const progress: number[] = [];
    const reports = await inspectAllInWorker(paths, { onFile: (done) => progress.push(done) });
    expect(reports).toEqual(await Promise.all(paths.map((p) => inspectFile(p))));
    expect(reports[0]!.n_obs).toBe(1);
    expect(progress).toEqual([1, 2, 3]);
  });

  it('fails with the error of the first file that cannot be read, code and message unchanged', async () => {
    const bad = join(FIXTURES, 'bad', 'x_shape_mismatch.h5ad');
    const paths = [join(FIXTURES, 'h5ad', 'one_cell.h5ad'), bad, join(FIXTURES, 'bad', 'not_hdf5.h5ad')];
    const direct = await inspectFile(bad).then(
      () => null,
      (err: CellarError) => err,
    );
    expect(direct).toBeInstanceOf(CellarError);
    const viaWorker = await inspectAllInWorker(paths).then(
      () => null,
      (err: CellarError) => err,
    );
    expect(viaWorker).toBeInstanceOf(CellarError);
    expect({ code: viaWorker!.code, message: viaWorker!.message }).toEqual({ code: direct!.code, message: direct!.message });
  });
});

describe('callInWorker time limits', () => {
  it('a limit per progress step lets a long call go on while each step is quick', async () => {
    const steps = await callInWorker<number>(SLOW, [4, 250], { timeoutMs: 1_500, timeoutPerProgress: true, what: 'stepping' });
    expect(steps).toBe(4);
  });

  it('without it, the limit is for the whole call, and the message says what was given up', async () => {
    await expect(callInWorker<number>(SLOW, [8, 250], { timeoutMs: 1_000, what: 'stepping' })).rejects.toThrow('Gave up stepping after 1 s');
  });

  it('a step slower than the limit still fails', async () => {
    await expect(callInWorker<number>(SLOW, [2, 1_500], { timeoutMs: 500, timeoutPerProgress: true, what: 'stepping' })).rejects.toThrow('Gave up stepping');
  });
});

describe('task threads are reused only after a clean finish', () => {
  const IDENTITY = { module: SLOW.module, exportName: 'threadIdentity' };
  const FAILING = { module: SLOW.module, exportName: 'failingTask' };
  const call = (task: typeof IDENTITY, mark: string) => callInWorker<{ threadId: number; earlierMark: string | null }>(task, [mark], { timeoutMs: 60_000, what: 'testing' });

  it('runs the next task in the thread that finished the last one', async () => {
    await closeIdleThreads();
    const first = await call(IDENTITY, 'first');
    const second = await call(IDENTITY, 'second');
    expect(first.earlierMark).toBeNull();
    expect(second).toEqual({ threadId: first.threadId, earlierMark: 'first' });
  });

  it('never reuses a thread whose task failed or was cancelled', async () => {
    await closeIdleThreads();
    const failed = await callInWorker(FAILING, [], { timeoutMs: 60_000, what: 'testing' }).then(
      () => null,
      (err: CellarError) => err,
    );
    expect(failed?.message).toBe('Unexpected error while testing: this task fails on purpose');
    expect((await call(IDENTITY, 'after failure')).earlierMark).toBeNull();

    await closeIdleThreads();
    const controller = new AbortController();
    const waiting = callInWorker({ module: SLOW.module, exportName: 'untilAborted' }, [], { timeoutMs: 60_000, what: 'testing', signal: controller.signal, abortGraceMs: 5_000 });
    setTimeout(() => controller.abort(), 200);
    await expect(waiting).rejects.toMatchObject({ code: 'cancelled', message: 'Cancelled testing.' });
    expect((await call(IDENTITY, 'after cancel')).earlierMark).toBeNull();
  });

  it('runs two calls at once in two threads', async () => {
    await closeIdleThreads();
    const [a, b] = await Promise.all([call(IDENTITY, 'a'), call(IDENTITY, 'b')]);
    expect(a.threadId).not.toBe(b.threadId);
  });

  it('does not keep a process alive with its waiting threads', () => {
    const script = `import('./src/main/engine/threads/worker-call.ts').then(async (m) => { const r = await m.callInWorker({ module: ${JSON.stringify(SLOW.module)}, exportName: 'slowSteps' }, [1, 1], { timeoutMs: 60000, what: 'testing' }); console.log('done', r); })`;
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(import.meta.dirname, '..', '..'), encoding: 'utf8', timeout: 25_000 });
    expect(r.stdout.trim()).toBe('done 1');
    expect(r.status).toBe(0);
    // The idle thread would hold it for 30 s.
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
