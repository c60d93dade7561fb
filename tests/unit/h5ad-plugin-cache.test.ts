// The patched h5 plugins are cached in a folder only this user can write: never a shared,
// predictable folder of the system's temp directory (another user could own it or plant a plugin).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPrivateFolder, pluginCacheRoot, preparePluginDir, userCacheDir } from '../../src/main/engine/h5ad/h5-plugins';

const packaged = join(dirname(createRequire(import.meta.url).resolve('h5wasm-plugins/package.json')), 'plugins');

describe('h5 plugin cache', () => {
  it('lives in the user cache folder, private to the user', () => {
    expect(userCacheDir('linux', { XDG_CACHE_HOME: '/c' })).toBe('/c/cellar');
    const cache = join(mkdtempSync(join(tmpdir(), 'cellar-cache-')), 'cellar');
    const root = pluginCacheRoot(cache);
    expect(root).toBe(join(cache, 'h5plugins'));
    expect(statSync(root).mode & 0o777).toBe(0o700);
    const dir = preparePluginDir(packaged, root);
    expect(dir.startsWith(root)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.so')).sort()).toEqual(readdirSync(packaged).filter((n) => n.endsWith('.so')).sort());
    expect(existsSync(join(dirname(dir), 'complete'))).toBe(true);
  });

  it('does not use a cache folder others can write: a private folder of this process instead', () => {
    const cache = join(mkdtempSync(join(tmpdir(), 'cellar-cache-')), 'cellar');
    mkdirSync(join(cache, 'h5plugins'), { recursive: true });
    chmodSync(cache, 0o777);
    expect(isPrivateFolder(cache)).toBe(false);
    const root = pluginCacheRoot(cache);
    expect(root.startsWith(cache)).toBe(false);
    expect(root.startsWith(tmpdir())).toBe(true);
    expect(isPrivateFolder(root)).toBe(true);
    expect(statSync(root).mode & 0o777).toBe(0o700);
  });
});
