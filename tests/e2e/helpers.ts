// Starts `cellar serve` on a fresh home and drives Debian's Chromium with playwright-core.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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

/** Starts `cellar serve --home HOME ...args` and resolves with its address once it prints it. */
export async function startCellarServe(home: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<{ url: string; child: ChildProcess; stderr(): string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'cellar.mjs'), 'serve', '--home', home, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const firstLine = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`cellar serve exited with ${code}: ${stderr}`)));
  });
  const match = /^Cellar is serving at (http:\/\/\S+)$/.exec(firstLine);
  if (!match) throw new Error(`Unexpected first line from cellar serve: ${firstLine}`);
  return { url: match[1]!, child, stderr: () => stderr };
}

export async function serve(home: string): Promise<Served> {
  const { url, child } = await startCellarServe(home);
  return {
    url,
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

export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--use-gl=swiftshader', '--enable-unsafe-swiftshader', ...extraArgs],
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
