// A function run in a worker by the jobs tests: `steps` steps of `stepMs` each, reporting after each.
export async function slowSteps(steps: number, stepMs: number, options: { onProgress?: (progress: number) => void } = {}): Promise<number> {
  for (let i = 0; i < steps; i++) {
    await new Promise((resolve) => setTimeout(resolve, stepMs));
    options.onProgress?.(i + 1);
  }
  return steps;
}

/** The id of the thread it runs in, and whether an earlier task in this thread left a mark. */
export async function threadIdentity(mark: string): Promise<{ threadId: number; earlierMark: string | null }> {
  const { threadId } = await import('node:worker_threads');
  const holder = globalThis as { cellarTestMark?: string };
  const earlierMark = holder.cellarTestMark ?? null;
  holder.cellarTestMark = mark;
  return { threadId, earlierMark };
}

/** Fails with a plain error (a task that went wrong). */
export async function failingTask(): Promise<never> {
  throw new Error('this task fails on purpose');
}

/** Waits until its signal aborts, then stops as a task that honours cancel does. */
export async function untilAborted(options: { signal?: AbortSignal } = {}): Promise<never> {
  return new Promise((_, reject) => options.signal!.addEventListener('abort', () => reject(new Error('stopped on abort'))));
}
