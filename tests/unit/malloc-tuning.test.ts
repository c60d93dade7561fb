import { describe, expect, it } from 'vitest';
import { MALLOC_TUNABLES, TUNED_MARK, tunedEnvironment } from '../../src/main/malloc-tuning.mjs';

describe('the malloc settings the cellar command restarts with', () => {
  it('adds the tunables and the restart mark on Linux, keeping the rest of the environment', () => {
    const env = tunedEnvironment({ PATH: '/bin', CELLAR_HOME: '/h' }, 'linux');
    expect(env).toEqual({ PATH: '/bin', CELLAR_HOME: '/h', GLIBC_TUNABLES: MALLOC_TUNABLES, [TUNED_MARK]: '1' });
    expect(MALLOC_TUNABLES).toBe('glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=1073741824');
  });

  it("appends to other glibc tunables the user set, but leaves the user's own malloc tunables alone", () => {
    expect(tunedEnvironment({ GLIBC_TUNABLES: 'glibc.rtld.nns=2' }, 'linux')?.GLIBC_TUNABLES).toBe(`glibc.rtld.nns=2:${MALLOC_TUNABLES}`);
    expect(tunedEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'linux')).toBeNull();
  });

  it('does nothing off Linux, when turned off, or in the restarted process', () => {
    expect(tunedEnvironment({}, 'darwin')).toBeNull();
    expect(tunedEnvironment({}, 'win32')).toBeNull();
    expect(tunedEnvironment({ CELLAR_MALLOC_TUNING: '0' }, 'linux')).toBeNull();
    expect(tunedEnvironment({ [TUNED_MARK]: '1' }, 'linux')).toBeNull();
  });
});
