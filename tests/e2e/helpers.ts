// Starts `cellar serve` on a fresh home and drives Debian's Chromium with playwright-core.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const ROOT = join(import.meta.dirname, '..', '..');
export const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots');

export interface Served {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const RENDERER_INDEX = join(ROOT, 'out', 'renderer', 'index.html');
const RENDERER_SOURCES = ['src/renderer', 'src/shared', 'vite.renderer.config.ts'].map((p) => join(ROOT, p));
const BUILD_LOCK = join(tmpdir(), 'cellar-e2e-renderer-build.lock');

function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestChange(join(path, name))), stat.mtimeMs);
}

function rendererIsStale(): boolean {
  if (!existsSync(RENDERER_INDEX)) return true;
  const built = statSync(RENDERER_INDEX).mtimeMs;
  return RENDERER_SOURCES.some((p) => existsSync(p) && newestChange(p) > built);
}

/**
 * `cellar serve` builds the page only when none exists, so tests would otherwise drive a
 * stale renderer. Test files run in parallel and share out/renderer: build under a lock,
 * and check again once holding it (another file may have just built it).
 */
export function ensureFreshRenderer(): void {
  if (!rendererIsStale()) return;
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      break;
    } catch {
      // A build takes well under a minute: an older lock was left by a process that died.
      if (existsSync(BUILD_LOCK) && Date.now() - statSync(BUILD_LOCK).mtimeMs > 600_000) rmdirSync(BUILD_LOCK);
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${BUILD_LOCK}; remove it if no build is running.`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    if (!rendererIsStale()) return;
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'vite.renderer.config.ts', '--logLevel', 'error'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`Building the renderer failed:\n${r.stderr}`);
  } finally {
    rmdirSync(BUILD_LOCK);
  }
}

export async function serve(home: string): Promise<Served> {
  ensureFreshRenderer();
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'cellar.mjs'), 'serve', '--home', home], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const firstLine = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`cellar serve exited with ${code}: ${stderr}`)));
  });
  const match = /^Cellar is serving at (http:\/\/\S+)$/.exec(firstLine);
  if (!match) throw new Error(`Unexpected first line from cellar serve: ${firstLine}`);
  return {
    url: match[1]!,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        // A server stuck in a synchronous loop never handles SIGTERM: do not hang the suite on it.
        const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--use-gl=swiftshader', '--enable-unsafe-swiftshader'],
  });
}

/** The whole screen: the app's main panel scrolls on its own, so the window grows to show all of it. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  const viewport = page.viewportSize();
  const contentHeight = await page.evaluate(() => Math.max(document.documentElement.scrollHeight, ...Array.from(document.querySelectorAll('main'), (m) => m.scrollHeight)));
  const grow = viewport !== null && contentHeight > viewport.height;
  if (grow) {
    await page.setViewportSize({ width: viewport.width, height: Math.min(contentHeight, 4000) });
    await page.waitForTimeout(150);
  }
  await page.screenshot({ path, fullPage: true });
  if (grow) await page.setViewportSize(viewport);
  return path;
}

/** Waits until the job shown in `scope` (a [data-testid=job] inside it) reaches a terminal state and returns it. */
export async function waitForJobEnd(scope: Locator, timeoutMs = 90_000): Promise<string> {
  const job = scope.getByTestId('job').first();
  await job.waitFor({ timeout: timeoutMs });
  await scope.locator('[data-testid=job]:not([data-job-state=running])').first().waitFor({ timeout: timeoutMs });
  return (await job.getAttribute('data-job-state')) ?? '';
}
