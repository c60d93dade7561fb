// The patched h5 plugins are cached in a folder only this user can write: never a shared,
// predictable folder of the system's temp directory (another user could own it or plant a plugin).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPrivateFolder, pluginCacheRoot, preparePluginDir, userCacheDir } from '../../src/main/engine/formats/h5ad/h5-plugins';

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

describe('h5 plugin cache, first use', () => {
  it('is prepared by several threads of one process at once without a failure', async () => {
    const { Worker } = await import('node:worker_threads');
    const root = pluginCacheRoot(join(mkdtempSync(join(tmpdir(), 'cellar-cache-')), 'cellar'));
    const moduleUrl = new URL('../../src/main/engine/formats/h5ad/h5-plugins.ts', import.meta.url).href;
    // Each thread loads the module, then all start preparing at the same moment.
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      const ready = new Int32Array(workerData.barrier);
      import(workerData.tsx).then((tsx) => { tsx.register(); return import(workerData.module); })
        .then((m) => {
          Atomics.add(ready, 0, 1);
          while (Atomics.load(ready, 0) < workerData.threads) Atomics.wait(ready, 0, Atomics.load(ready, 0), 5);
          parentPort.postMessage({ ok: true, dir: m.preparePluginDir(workerData.packaged, workerData.root) });
        })
        .catch((e) => parentPort.postMessage({ ok: false, error: String(e) }));`;
    const barrier = new SharedArrayBuffer(4);
    const tsx = new URL(import.meta.resolve('tsx/esm/api')).href;
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => new Promise<{ ok: boolean; dir?: string; error?: string }>((resolve, reject) => {
        const w = new Worker(source, { eval: true, workerData: { tsx, module: moduleUrl, packaged, root, barrier, threads: 4 } });
        w.once('message', (m) => {
          resolve(m);
          void w.terminate();
        });
        w.once('error', reject);
      })),
    );
    expect(runs.map((r) => r.error ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(new Set(runs.map((r) => r.dir)).size).toBe(1);
    expect(readdirSync(runs[0]!.dir!).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 60_000);
});
