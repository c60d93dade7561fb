// The desktop app as built (out/main/index.js, out/preload/index.cjs, out/renderer), booted
// under the Electron stand-in (desktop/harness.ts) with its window in real Chromium, doing the
// seed workflow the way the window does: a file double-clicked at cold start, files from the
// open dialog and from a drop, import, concatenate, filter and export through the save
// dialog, append, PCA, versions, lineage. Also what makes it a desktop app: a hardened
// window, the page on its own app:// origin, the home outside Electron's profile folder,
// files from a second instance, and the macOS lifecycle.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { runPythonJson } from '../integration/helpers/python';
import { screenshot, ROOT, waitForJobEnd } from './helpers';
import { bootDesktopApp, isolatedUserEnv, type DesktopApp } from './desktop/harness';
import { MAKE_DATA, type SeedExpectations } from './seed-data';
import { CONTENT_SECURITY_POLICY } from '../../src/main/shell/security';

const STEP_MS = 150_000;
const FILTER = 'cell_type == "B" and n_counts > 90';

let user: string;
let data: string;
let expected: SeedExpectations;
let app: DesktopApp;
let page: Page;
let bootMs = 0;

const file = (name: string) => join(data, name);
const nav = (screen: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: screen, exact: true }).click();
const FORMATS = join(ROOT, 'tests', 'fixtures', 'formats');
/** A call through the preload's API, exactly as the renderer makes it. */
const invoke = <T,>(channel: string, request?: unknown) => page.evaluate(([c, r]) => (window as unknown as { cellar: { invoke(c: string, r: unknown): Promise<T> } }).cellar.invoke(c, r), [channel, request] as const);

beforeAll(async () => {
  user = mkdtempSync(join(tmpdir(), 'cellar-desktop-user-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-desktop-data-'));
  expected = runPythonJson(MAKE_DATA, [data]);
  const started = performance.now();
  // pbmc3.h5ad is the file the user double-clicked to start the app.
  app = await bootDesktopApp({ appRoot: ROOT, env: isolatedUserEnv(user), argv: [file('pbmc3.h5ad')] });
  page = (await app.firstWindow()).page;
  bootMs = performance.now() - started;
}, 180_000);

afterAll(async () => {
  await app?.quit();
  rmSync(user, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

describe('the built desktop app', () => {
  it('opens a hardened window on its own origin, with the built CommonJS preload', async () => {
    const [win] = [...app.windows.values()];
    expect(win!.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, preload: join(ROOT, 'out', 'preload', 'index.cjs') });
    expect(win!.options.show).toBe(false);
    // Every screen is laid out for 1024×700 (tests/e2e/screens.test.ts): the window cannot get smaller.
    expect([win!.options.minWidth, win!.options.minHeight]).toEqual([1024, 700]);
    await expect.poll(() => app.log.some((m) => m.type === 'window:show')).toBe(true);
    expect(app.log.find((m) => m.type === 'protocol:privileged')).toMatchObject({ schemes: [{ scheme: 'app', privileges: { standard: true, secure: true } }] });
    // (The cold-start file may already have moved the page to its inspector: compare the document, not the hash.)
    expect(await app.toAppUrl(page.url().split('#')[0]!)).toBe('app://cellar/index.html');
    // What the preload exposes, and nothing of Node or Electron.
    const exposed = await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>;
      return { keys: Object.keys(w.cellar as object).sort(), require: typeof w.require, process: typeof w.process, ipcRenderer: typeof w.ipcRenderer, frozen: Object.isFrozen(w.cellar) };
    });
    expect(exposed).toEqual({ keys: ['fileFromDrop', 'invoke', 'on'], require: 'undefined', process: 'undefined', ipcRenderer: 'undefined', frozen: true });
    // The page's files come through the app's protocol handler, with the app's CSP.
    expect(await page.evaluate(async () => (await fetch('./index.html')).headers.get('content-security-policy'))).toBe(CONTENT_SECURITY_POLICY);
    expect(await invoke<{ ok: boolean }>('no:such-channel', {}).catch((e: Error) => e.message)).toContain('Unknown channel no:such-channel');
    console.log(`desktop app: first window loaded ${Math.round(bootMs)} ms after the main process started`);
  });

  it('shows the file double-clicked at cold start, and keeps the home apart from the app profile', async () => {
    await page.getByTestId('inspect-facts').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('inspect-facts').textContent()).toContain('80 cells × 60 genes');
    await screenshot(page, 'desktop-01-cold-start-inspector');

    await nav('Library');
    const location = page.getByTestId('home-location');
    await location.waitFor();
    const home = join(user, 'data', 'Cellar');
    expect(await location.locator('code').textContent()).toBe(home);
    const userData = await app.ask<string>({ type: 'app:get-path', name: 'userData' });
    expect(userData).toBe(join(user, 'config', 'Cellar'));
    expect(home.startsWith(userData)).toBe(false);
    const info = await invoke<{ ok: true; value: { home: string; mode: string; homeNote: string | null } }>('app:info');
    expect(info).toEqual({ ok: true, value: expect.objectContaining({ home, mode: 'desktop', homeNote: null }) });
  }, STEP_MS);

  it('refuses a navigation away from the app and a new window', async () => {
    const before = page.url();
    await page.evaluate(() => void (location.href = 'https://evil.example/'));
    await expect.poll(() => app.log.filter((m) => m.type === 'navigation').length).toBe(1);
    expect(app.log.find((m) => m.type === 'navigation')).toMatchObject({ url: 'https://evil.example/', allowed: false });
    expect(page.url()).toBe(before);
    await page.evaluate(() => void window.open('http://evil.example/popup'));
    await expect.poll(() => app.log.filter((m) => m.type === 'window-open').length).toBe(1);
    expect(app.log.find((m) => m.type === 'window-open')).toMatchObject({ action: 'deny' });
    // Redirects and frame navigations elsewhere, and <webview>, are refused; the app's own page is not.
    const [win] = [...app.windows.values()];
    const may = (event: string, url: string) => app.ask<boolean>({ type: 'window:guard', id: win!.id, event, url });
    expect(await may('will-redirect', 'https://evil.example/')).toBe(false);
    expect(await may('will-redirect', 'app://cellar/index.html')).toBe(true);
    expect(await may('will-frame-navigate', 'https://evil.example/frame')).toBe(false);
    expect(await may('will-frame-navigate', 'app://cellar/index.html#/store')).toBe(true);
    expect(await may('will-attach-webview', 'app://cellar/index.html')).toBe(false);
  });

  it('opens only documentation sites in the browser; no other link leaves the app', async () => {
    await page.evaluate(() => void window.open('https://anndata.readthedocs.io/en/latest/fileformat-prose.html'));
    await expect.poll(() => app.log.filter((m) => m.type === 'shell:open-external').length).toBe(1);
    expect(app.log.find((m) => m.type === 'shell:open-external')).toMatchObject({ url: 'https://anndata.readthedocs.io/en/latest/fileformat-prose.html' });
    for (const url of ['https://evil.example/', 'http://anndata.readthedocs.io/', 'https://user@anndata.readthedocs.io/', 'file:///etc/passwd']) await page.evaluate((u) => void window.open(u), url);
    await expect.poll(() => app.log.filter((m) => m.type === 'window-open').length).toBe(6);
    expect(app.log.filter((m) => m.type === 'window-open').every((m) => m.action === 'deny')).toBe(true);
    expect(app.log.filter((m) => m.type === 'shell:open-external')).toHaveLength(1);
    // Permissions (camera, notifications, …) are refused.
    expect(await app.ask<boolean>({ type: 'session', what: 'permission', permission: 'notifications' })).toBe(false);
    // The page's CSP forbids what the app does not use: a script from elsewhere, a frame, a form target.
    const blocked = await page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
      const s = document.createElement('script');
      s.src = 'https://evil.example/x.js';
      document.body.append(s);
      const f = document.createElement('iframe');
      f.src = 'https://evil.example/';
      document.body.append(f);
      await new Promise((r) => setTimeout(r, 300));
      s.remove();
      f.remove();
      return violations.sort();
    });
    expect(blocked).toEqual(['frame-src', 'script-src-elem']);
  });

  it('imports files from the cold start, the open dialog and a drop into a collection', async () => {
    // Still on the Library (nothing the app did since moved the page elsewhere); the cold-start file is in the import list.
    await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor({ timeout: 10_000 });
    await page.locator('[data-testid=pending-file][data-status=ok]').first().waitFor({ timeout: 30_000 });
    app.answerOpenDialog([file('pbmc1.h5ad')]);
    await page.getByRole('button', { name: 'Add files…' }).click();
    await expect.poll(() => page.locator('[data-testid=pending-file][data-status=ok]').count(), { timeout: 60_000 }).toBe(2);
    const dialog = app.log.find((m) => m.type === 'dialog:open') as unknown as { options: { properties: string[]; filters: { extensions: string[] }[] } };
    expect(dialog.options.properties).toContain('multiSelections');
    expect(dialog.options.filters).toEqual([{ name: 'Single-cell datasets', extensions: ['h5ad', 'h5', 'loom'] }]);

    // A drop from the file manager: a file that is not a dataset is refused by name, the .h5ad is taken.
    await app.dropFiles(page, '[role=region][aria-label^="Library: drop"]', [file('notes.txt')]);
    await page.getByText('notes.txt: notes.txt is not a single-cell dataset file (.h5ad, .h5 or .loom).').waitFor({ timeout: 30_000 });
    await app.dropFiles(page, '[role=region][aria-label^="Library: drop"]', [file('pbmc2.h5ad')]);
    await expect.poll(() => page.locator('[data-testid=pending-file][data-status=ok]').count(), { timeout: 60_000 }).toBe(3);
    expect(await page.getByTestId('pending-file').allTextContents()).toEqual([expect.stringContaining('pbmc3.h5ad'), expect.stringContaining('pbmc1.h5ad'), expect.stringContaining('pbmc2.h5ad')]);

    await page.getByLabel('Collection', { exact: true }).fill('pbmc');
    await page.getByRole('button', { name: 'Import 3 files' }).click();
    expect(await waitForJobEnd(page.getByRole('region', { name: 'Import files' }))).toBe('completed');
    await expect.poll(() => page.getByTestId('collection-members').first().textContent()).toBe('pbmc3.h5ad, pbmc1.h5ad, pbmc2.h5ad');
    await screenshot(page, 'desktop-02-library-imported');
  }, STEP_MS);

  it('plans the concatenation in a worker and creates the store', async () => {
    await page.getByTestId('collection').filter({ hasText: 'pbmc' }).getByRole('link', { name: 'Concatenate…' }).click();
    await page.getByTestId('plan').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('plan-dropped').textContent()).toContain('obs/only_here');
    expect(await page.getByTestId('plan-problems').textContent()).toContain('No problems found.');
    await page.getByLabel('New store key').fill('atlas');
    await page.getByRole('button', { name: 'Create store' }).click();
    expect(await waitForJobEnd(page.getByRole('region', { name: 'Concatenation settings' }))).toBe('completed');
    expect(await page.getByTestId('concat-done').textContent()).toBe(`Store atlas created: ${expected.n_obs} cells × ${expected.n_vars} genes. Open it →`);
  }, STEP_MS);

  it('filters cells and exports the slice where the save dialog said', async () => {
    await page.getByTestId('concat-done').getByRole('link', { name: /Open it/ }).click();
    await page.getByTestId('store-nobs').waitFor();
    await page.getByTestId('obs-filter').fill(FILTER);
    await page.getByTestId('obs-filter').press('Enter');
    await expect.poll(() => page.getByTestId('obs-count').textContent()).toBe(`${expected.filtered} of ${expected.n_obs} cells match`);
    const exportsDir = join(user, 'Documents');
    mkdirSync(exportsDir, { recursive: true });
    const target = join(exportsDir, 'b-cells.h5ad');
    app.answerSaveDialog(target);
    await page.getByRole('button', { name: 'Export .h5ad' }).click();
    const done = page.getByTestId('export-done');
    await done.waitFor({ timeout: 90_000 });
    expect(await done.textContent()).toBe(`Exported ${expected.filtered} cells × ${expected.n_vars} genes. Saved to ${target}`);
    expect(app.log.find((m) => m.type === 'dialog:save')).toMatchObject({ options: { defaultPath: 'atlas-slice.h5ad' } });
    const slice = runPythonJson<{ n_obs: number; types: string[] }>(`import sys, json, anndata as ad\na = ad.read_h5ad(sys.argv[1])\nprint(json.dumps({'n_obs': a.n_obs, 'types': sorted(set(a.obs.cell_type.astype(str)))}))`, [target]);
    expect(slice).toEqual({ n_obs: expected.filtered, types: ['B'] });
    await screenshot(page, 'desktop-03-store-exported');
  }, STEP_MS);

  it('appends the fourth file after its preflight', async () => {
    await nav('Append');
    await page.getByRole('heading', { name: 'Append', level: 1 }).waitFor();
    app.answerOpenDialog([file('pbmc4.h5ad')]);
    await page.getByRole('button', { name: 'Add files…' }).click();
    await page.locator('[data-testid=pending-file][data-status=ok]').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByTestId('plan-problems').getByText('No problems found.').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('plan-added').textContent()).toContain('NEWGENE');
    await page.getByRole('button', { name: 'Append', exact: true }).click();
    expect(await waitForJobEnd(page.getByRole('region', { name: 'Append files' }))).toBe('completed');
    expect(await page.getByTestId('append-done').textContent()).toBe(`Appended 60 cells and 1 new gene: atlas version 2 has ${expected.n_obs + 60} cells × ${expected.n_vars + 1} genes. Open the new version →`);
  }, STEP_MS);

  it('computes a PCA in the worker threads and plots it', async () => {
    await nav('Embeddings');
    await page.getByLabel('Components').fill('2');
    await page.getByRole('button', { name: 'Compute PCA' }).click();
    expect(await waitForJobEnd(page.getByRole('form', { name: 'Compute PCA' }))).toBe('completed');
    expect(await page.getByTestId('pca-done').textContent()).toMatch(new RegExp(`^Saved pca \\(${expected.n_obs + 60} cells × 2 components\\) as version 3\\.`));
    await page.getByLabel('Color by').selectOption('obs:cell_type');
    const legend = page.getByRole('complementary', { name: 'Legend' });
    await legend.waitFor({ timeout: 30_000 });
    expect(await legend.textContent()).toContain('Mono');
    await screenshot(page, 'desktop-04-embeddings');
  }, STEP_MS);

  it('lists the versions and draws the lineage, on screen and through the preload API', async () => {
    await nav('Versions');
    await expect.poll(() => page.getByTestId('version-row').count(), { timeout: 30_000 }).toBe(3);
    const versions = await invoke<{ ok: true; value: { version: number; run: { transform: string } }[] }>('versions:list', { storeKey: 'atlas' });
    expect(versions.value.map((v) => [v.version, v.run.transform])).toEqual([
      [3, 'embed'],
      [2, 'append'],
      [1, 'concatenate'],
    ]);
    await nav('Lineage');
    await page.locator('[data-testid=lineage-canvas][data-ready=true]').waitFor({ timeout: 30_000 });
    expect(await page.getByRole('navigation', { name: /Lineage items/ }).getByRole('button').count()).toBeGreaterThanOrEqual(8);
    const lineage = await invoke<{ ok: true; value: { nodes: { kind: string; label: string }[]; edges: unknown[] } }>('lineage:get', { ref: 'atlas' });
    expect(lineage.value.nodes.filter((n) => n.kind === 'run').map((n) => n.label.split(' ')[0]).sort()).toEqual(expect.arrayContaining(['append', 'concatenate', 'embed', 'import']));
    await screenshot(page, 'desktop-05-lineage');
  }, STEP_MS);

  it('offers tables, not .h5ad files, in the open dialog when annotations are chosen', async () => {
    const table = join(data, 'labels.csv');
    writeFileSync(table, 'obs_id,label\npbmc1-c0,x\n');
    app.answerOpenDialog([table]);
    const chosen = await invoke<{ ok: true; value: { name: string }[] }>('file:choose', { kind: 'table' });
    expect(chosen.value.map((f) => f.name)).toEqual(['labels.csv']);
    const dialog = app.log.filter((m) => m.type === 'dialog:open').at(-1) as unknown as { options: { properties: string[]; filters: { extensions: string[] }[] } };
    expect(dialog.options.filters[0]!.extensions).toEqual(['csv', 'tsv', 'txt', 'tab']);
    expect(dialog.options.properties).toEqual(['openFile']);
    expect(await invoke('file:choose', { kind: 'spreadsheet' })).toEqual({ ok: false, error: { code: 'usage', message: 'file:choose: "kind" must be h5ad, table or folder.' } });
  });

  it('chooses a Matrix Market folder with the folder dialog and checks it like a file', async () => {
    await nav('Library');
    app.answerOpenDialog([join(FORMATS, 'mtx_v3')]);
    await page.getByRole('button', { name: 'Add a Matrix Market folder…' }).click();
    const folder = page.locator('[data-testid=pending-file]').filter({ hasText: 'mtx_v3' });
    await folder.and(page.locator('[data-status=ok]')).waitFor({ timeout: 60_000 });
    // The fixture's 15 barcodes × 10 gene expression features (its antibody features are set aside).
    expect(await folder.textContent()).toContain('15 cells × 10 genes');
    const dialog = app.log.filter((m) => m.type === 'dialog:open').at(-1) as unknown as { options: { properties: string[]; filters?: unknown } };
    expect(dialog.options.properties).toEqual(['openDirectory']);
    expect(dialog.options.filters).toBeUndefined();
    await page.getByRole('button', { name: 'Remove mtx_v3' }).click();
    await expect.poll(() => folder.count()).toBe(0);
  }, STEP_MS);

  it('opens a file handed over by a second instance', async () => {
    app.send({ type: 'app:second-instance', argv: ['/usr/bin/cellar', 'pbmc4.h5ad', '--no-sandbox'], cwd: data });
    await page.getByTestId('inspect-facts').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('inspect-facts').textContent()).toContain('60 cells × 61 genes');
  }, STEP_MS);

  it('keeps a file opened while the page reloads until the new page takes it', async () => {
    const started = app.pageLoadsStarted;
    const reloading = page.reload();
    await expect.poll(() => app.pageLoadsStarted, { timeout: 30_000 }).toBe(started + 1);
    app.send({ type: 'app:second-instance', argv: ['/usr/bin/cellar-desktop', join(data, 'pbmc1.h5ad')], cwd: '/' });
    await reloading;
    await expect.poll(async () => page.getByTestId('inspect-facts').textContent(), { timeout: 60_000 }).toContain('120 cells × 60 genes');
  }, STEP_MS);

  it('refuses every channel to a frame that is not the app page', async () => {
    const answer = await app.ask<unknown>({ type: 'ipc:invoke-as', frameUrl: 'https://evil.example/', channel: 'library:list', args: [undefined] });
    expect(answer).toMatchObject({ ok: false, error: { code: 'usage', message: "Refused library:list: the message did not come from Cellar's own window." } });
    expect(app.errors).toEqual([]);
  });

  it('asks before closing while a job runs, and quits when told to', async () => {
    // A job that cannot finish by itself: importing a named pipe nobody writes to.
    const fifo = join(data, 'waiting.h5ad');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    app.answerOpenDialog([fifo]);
    const [chosen] = await invoke<{ ok: true; value: { fileToken: string }[] }>('file:choose').then((r) => r.value);
    const job = await invoke<{ ok: true; value: { id: string; state: string } }>('import:start', { fileTokens: [chosen!.fileToken], collectionKey: 'waiting' });
    expect(job.value.state).toBe('running');
    const [win] = [...app.windows.values()];
    app.answerMessageBox(0); // Keep working
    app.requestClose(win!.id);
    await expect.poll(() => app.log.filter((m) => m.type === 'dialog:message').length).toBe(1);
    expect(app.log.find((m) => m.type === 'dialog:message')).toMatchObject({ message: 'A job is still running. Quit and cancel it?' });
    await new Promise((r) => setTimeout(r, 300));
    expect(win!.destroyed).toBe(false);
    app.answerMessageBox(1); // Quit anyway
    app.requestClose(win!.id);
    await expect.poll(() => win!.destroyed, { timeout: 30_000 }).toBe(true);
    // Exiting waits for worker threads, and the job's threads may be blocked opening the pipe —
    // more than one open, one after the other (inspect, then the copy): keep giving each a writer
    // (for at most 10 s) so they can end.
    spawn('timeout', ['10', 'sh', '-c', `while :; do echo not-hdf5 > '${fifo}'; done`], { stdio: 'ignore' });
    // The last window closed on Linux: the app quits, cleanly.
    expect(await app.exited).toBe(0);
  }, STEP_MS);
});
