// The packaged app: electron-builder packs the unpacked Linux app (`--dir`) with a stand-in
// Electron folder (nothing is downloaded), then we check that the packed app holds every file
// the app loads at run time, and boot it from that layout (its app.asar extracted where
// Electron would read it, unpacked files beside it) through the seed workflow. The Electron-ABI
// better-sqlite3 of a real package is replaced by the Node build, since the stand-in is Node.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { extractAll } from '@electron/asar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { runPythonJson } from '../integration/helpers/python';
import { ROOT } from './helpers';
import { bootDesktopApp, isolatedUserEnv, type DesktopApp } from './desktop/harness';
import { MAKE_DATA, type SeedExpectations } from './seed-data';

let work: string;
let layout: string;
let data: string;
let expected: SeedExpectations;

/** A folder shaped like Electron's Linux distribution, with a binary that cannot run. */
function standinElectronDist(dir: string): string {
  mkdirSync(join(dir, 'resources'), { recursive: true });
  writeFileSync(join(dir, 'electron'), '#!/bin/sh\necho "this is a stand-in for Electron" >&2\nexit 1\n');
  chmodSync(join(dir, 'electron'), 0o755);
  writeFileSync(join(dir, 'chrome-sandbox'), '');
  writeFileSync(join(dir, 'LICENSE'), 'stand-in');
  writeFileSync(join(dir, 'version'), JSON.parse(readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')).version);
  return dir;
}

/** Every module a built entry imports, following relative imports and dynamic import() of chunks. */
function chunkClosure(dir: string, entries: string[]): string[] {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const code = readFileSync(join(dir, name), 'utf8');
    for (const m of code.matchAll(/(?:from\s*|import\s*\(\s*)["']\.\/([^"']+)["']/g)) queue.push(m[1]!);
  }
  return [...seen].sort();
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cellar-packaged-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-packaged-data-'));
  expected = runPythonJson(MAKE_DATA, [data]);
  const dist = standinElectronDist(join(work, 'electron-dist'));
  const output = join(work, 'dist');
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'electron-builder', 'cli.js'), '--dir', '--linux', '--x64', '--config', 'electron-builder.config.cjs', `-c.electronDist=${dist}`, `-c.directories.output=${output}`], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CELLAR_PACK_NATIVE: 'node', CELLAR_PACK_STANDIN_ELECTRON: '1' },
  });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  const unpacked = join(output, 'linux-unpacked');
  expect(readdirSync(unpacked).sort()).toEqual(expect.arrayContaining(['cellar-desktop', 'chrome-sandbox', 'resources']));
  // Electron reads app.asar as a folder: extract it there, and put everything else beside it.
  layout = join(work, 'installed');
  const resources = join(layout, 'resources');
  mkdirSync(resources, { recursive: true });
  extractAll(join(unpacked, 'resources', 'app.asar'), join(resources, 'app.asar'));
  for (const name of readdirSync(join(unpacked, 'resources'))) if (name !== 'app.asar') cpSync(join(unpacked, 'resources', name), join(resources, name), { recursive: true });
}, 300_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

describe('the packed app', () => {
  it('holds every file the app loads at run time, and no TypeScript', () => {
    const app = join(layout, 'resources', 'app.asar');
    const unpacked = join(layout, 'resources', 'app.asar.unpacked');
    const main = join(ROOT, 'out', 'main');
    // Main, the CLI and every thread entry with all their chunks: in the archive, and unpacked for worker threads.
    const modules = chunkClosure(main, ['index.js', 'cli.js', 'task-worker.js', 'pca-worker.js', 'row-decode-worker.js', 'x-encode-worker.js']);
    expect(modules.length).toBeGreaterThan(10);
    for (const m of modules) {
      expect(existsSync(join(app, 'out', 'main', m)), `app.asar/out/main/${m}`).toBe(true);
      expect(existsSync(join(unpacked, 'out', 'main', m)), `app.asar.unpacked/out/main/${m}`).toBe(true);
    }
    expect(existsSync(join(app, 'out', 'preload', 'index.cjs'))).toBe(true);
    const html = readFileSync(join(app, 'out', 'renderer', 'index.html'), 'utf8');
    const assets = [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const a of assets) expect(existsSync(join(app, 'out', 'renderer', a)), a).toBe(true);
    // What stays a file on disk: native addons, h5wasm and its filter plugins, parquet-wasm.
    const plugins = readdirSync(join(ROOT, 'node_modules', 'h5wasm-plugins', 'plugins')).filter((n) => n.endsWith('.so'));
    expect(plugins.length).toBeGreaterThan(5);
    for (const file of [
      'node_modules/better-sqlite3/lib/index.js',
      'node_modules/h5wasm/dist/node/hdf5_hl.js',
      'node_modules/h5wasm/dist/node/hdf5_util.js',
      'node_modules/zstd-napi/binding.js',
      'node_modules/zstd-napi/build/Release/binding.node',
      'node_modules/lz4-napi/index.js',
      'node_modules/parquet-wasm/node/parquet_wasm.js',
      'node_modules/parquet-wasm/node/parquet_wasm_bg.wasm',
      ...plugins.map((p) => `node_modules/h5wasm-plugins/plugins/${p}`),
    ]) {
      expect(existsSync(join(unpacked, file)), file).toBe(true);
    }
    const lz4Platform = readdirSync(join(unpacked, 'node_modules', '@antoniomuso'));
    expect(lz4Platform.some((d) => readdirSync(join(unpacked, 'node_modules', '@antoniomuso', d)).some((f) => f.endsWith('.node')))).toBe(true);
    expect(existsSync(join(layout, 'resources', 'native', 'better_sqlite3.node'))).toBe(true);
    expect(readFileSync(join(layout, 'resources', 'mime', 'cellar-h5ad.xml'), 'utf8')).toContain('<glob pattern="*.h5ad"/>');
    // No TypeScript at run time: no sources, no TypeScript runner, no Node-ABI sqlite build in the archive.
    const everything = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? everything(join(dir, e.name)) : [relative(app, join(dir, e.name))]));
    const files = everything(app);
    expect(files.filter((f) => f.startsWith('out') && /\.tsx?$/.test(f))).toEqual([]);
    expect(files.some((f) => f.startsWith('src/'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'better-sqlite3', 'build'))).toBe(false);
  });

  it('boots from the packed layout and runs the seed workflow with only its own files', async () => {
    const user = mkdtempSync(join(tmpdir(), 'cellar-packaged-user-'));
    const app: DesktopApp = await bootDesktopApp({ appRoot: join(layout, 'resources', 'app.asar'), packaged: true, env: isolatedUserEnv(user) });
    try {
      const page: Page = (await app.firstWindow()).page;
      await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor({ timeout: 60_000 });
      const invoke = async <T,>(channel: string, request?: unknown): Promise<T> => {
        const r = await page.evaluate(([c, q]) => (window as unknown as { cellar: { invoke(c: string, r: unknown): Promise<unknown> } }).cellar.invoke(c, q), [channel, request] as const);
        const result = r as { ok: boolean; value?: T; error?: { message: string } };
        if (!result.ok) throw new Error(`${channel}: ${result.error?.message}`);
        return result.value as T;
      };
      const finished = async (job: { id: string }) => {
        for (;;) {
          const jobs = await invoke<{ id: string; state: string; error?: { message: string } }[]>('jobs:list');
          const j = jobs.find((x) => x.id === job.id)!;
          if (j.state !== 'running') return j;
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      app.answerOpenDialog(['pbmc1.h5ad', 'pbmc2.h5ad', 'pbmc3.h5ad'].map((n) => join(data, n)));
      const files = await invoke<{ fileToken: string }[]>('file:choose');
      expect(files).toHaveLength(3);
      expect(await finished(await invoke('import:start', { fileTokens: files.map((f) => f.fileToken), collectionKey: 'pbmc' }))).toMatchObject({ state: 'completed' });
      expect(await invoke<{ n_obs: number; problems: string[] }>('concat:plan', { collectionKey: 'pbmc' })).toMatchObject({ n_obs: expected.n_obs, problems: [] });
      expect(await finished(await invoke('concat:start', { collectionKey: 'pbmc', storeKey: 'atlas' }))).toMatchObject({ state: 'completed' });
      const target = join(user, 'slice.h5ad');
      app.answerSaveDialog(target);
      expect(await finished(await invoke('export:start', { storeKey: 'atlas', obs: 'cell_type == "B" and n_counts > 90', format: 'h5ad' }))).toMatchObject({ state: 'completed' });
      expect(runPythonJson<number>('import sys, json, anndata as ad\nprint(json.dumps(ad.read_h5ad(sys.argv[1]).n_obs))', [target])).toBe(expected.filtered);
      // The Parquet writer's .wasm loads from the packed app too.
      const parquet = join(user, 'slice-parquet');
      app.answerSaveDialog(parquet);
      expect(await finished(await invoke('export:start', { storeKey: 'atlas', obs: 'cell_type == "B" and n_counts > 90', format: 'parquet' }))).toMatchObject({ state: 'completed' });
      expect(readdirSync(parquet).sort()).toEqual(['README.md', 'ms', 'obs.parquet']);
      expect(await finished(await invoke('embed:start', { storeKey: 'atlas', nComponents: 2 }))).toMatchObject({ state: 'completed' });
      expect((await invoke<{ version: number }[]>('versions:list', { storeKey: 'atlas' })).map((v) => v.version)).toEqual([2, 1]);
      expect((await invoke<{ nodes: unknown[] }>('lineage:get', { ref: 'atlas' })).nodes.length).toBeGreaterThanOrEqual(6);
      // Every native addon the process loaded came from the packed app (not the repository).
      const maps = readFileSync(`/proc/${app.child.pid}/maps`, 'utf8');
      const addons = [...new Set([...maps.matchAll(/\s(\/\S+\.node)$/gm)].map((m) => m[1]!))];
      expect(addons.length).toBeGreaterThanOrEqual(3);
      for (const addon of addons) expect(addon.startsWith(layout), addon).toBe(true);
      expect(addons.some((a) => a.endsWith(join('native', 'better_sqlite3.node')))).toBe(true);
      expect(app.errors).toEqual([]);
    } finally {
      await app.quit();
      rmSync(user, { recursive: true, force: true });
    }
  }, 300_000);
});

