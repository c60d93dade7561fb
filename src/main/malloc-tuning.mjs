// Cellar's heavy commands allocate and free arrays of hundreds of megabytes. With glibc's
// defaults every such array is a fresh mmap, so each call pays a page fault per 4 KiB of it
// (very costly on virtual machines); these settings let large arrays use transparent huge
// pages and come from the heap, where freed memory is reused instead of handed back.
// glibc reads them only at process start, so the `cellar` command restarts itself with them.
// Plain JavaScript: bin/cellar.mjs loads it before TypeScript support is registered.

export const MALLOC_TUNABLES = [
  'glibc.malloc.hugetlb=1',
  `glibc.malloc.mmap_threshold=${4 * 1024 ** 3}`,
  `glibc.malloc.trim_threshold=${1024 ** 3}`,
].join(':');

/** Set in the restarted process; CELLAR_MALLOC_TUNING=0 turns the restart off. */
export const TUNED_MARK = 'CELLAR_MALLOC_TUNED';

/**
 * The environment to restart with, or null when there is nothing to do: not Linux, turned off,
 * already restarted, or the user set glibc's malloc tunables themselves.
 */
export function tunedEnvironment(env, platform = process.platform) {
  if (platform !== 'linux' || env.CELLAR_MALLOC_TUNING === '0' || env[TUNED_MARK] === '1') return null;
  const own = env.GLIBC_TUNABLES ?? '';
  if (own.includes('glibc.malloc.')) return null;
  return { ...env, GLIBC_TUNABLES: own ? `${own}:${MALLOC_TUNABLES}` : MALLOC_TUNABLES, [TUNED_MARK]: '1' };
}
