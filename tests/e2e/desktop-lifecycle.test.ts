// The desktop app's life around its window, booted from the build under the Electron stand-in
// and playing macOS: a library an older Cellar kept in the app's profile folder is moved out
// of it (and the Library says so), a file opened before the app was ready is shown, closing
// the last window keeps the app, and clicking the dock icon (activate) opens a window again.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPythonJson } from '../integration/helpers/python';
import { cellarAsync } from '../integration/helpers/cellar';
import { ROOT, screenshot } from './helpers';
import { bootDesktopApp, isolatedUserEnv, type DesktopApp } from './desktop/harness';
import { MAKE_DATA } from './seed-data';

let user: string;
let data: string;
let app: DesktopApp;
let support: string;

beforeAll(async () => {
  user = mkdtempSync(join(tmpdir(), 'cellar-desktop-mac-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-desktop-mac-data-'));
  runPythonJson(MAKE_DATA, [data]);
  support = join(user, 'Library', 'Application Support');
  // An older Cellar's library, inside what is Electron's profile folder on macOS.
  mkdirSync(support, { recursive: true });
  const r = await cellarAsync(['import', join(data, 'pbmc1.h5ad'), '--collection', 'from-before'], { home: join(support, 'Cellar') });
  expect(r.code, r.stderr).toBe(0);
  app = await bootDesktopApp({ appRoot: ROOT, env: isolatedUserEnv(user, { CELLAR_STANDIN_PLATFORM: 'darwin' }), beforeReady: (a) => a.send({ type: 'app:open-file', path: join(data, 'pbmc2.h5ad') }) });
}, 180_000);

afterAll(async () => {
  await app?.quit();
  rmSync(user, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

describe('the desktop app on macOS', () => {
  it('shows the file the OS opened before the app was ready', async () => {
    const { page } = await app.firstWindow();
    await page.getByTestId('inspect-facts').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('inspect-facts').textContent()).toContain('100 cells × 57 genes');
    // Opened by the OS, it is in the import list with its size.
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Library', exact: true }).click();
    const pending = page.getByTestId('pending-file').filter({ hasText: 'pbmc2.h5ad' });
    await pending.waitFor({ timeout: 30_000 });
    expect(await pending.textContent()).toMatch(/pbmc2\.h5ad\d+(\.\d)? KiB/);
  }, 120_000);

  it('moves the old library out of the profile folder and says where it is now', async () => {
    const { page } = await app.firstWindow();
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Library', exact: true }).click();
    const home = join(support, 'Cellar Data');
    await page.getByTestId('home-note').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('home-note').textContent()).toBe(`Your library was moved from ${join(support, 'Cellar')} to ${home}, away from the app's own settings and cache.`);
    expect(await page.getByTestId('home-location').locator('code').textContent()).toBe(home);
    await page.getByTestId('collection').filter({ hasText: 'from-before' }).waitFor({ timeout: 30_000 });
    expect(existsSync(join(home, 'registry.sqlite'))).toBe(true);
    expect(existsSync(join(support, 'Cellar', 'registry.sqlite'))).toBe(false);
    expect(await app.ask<string>({ type: 'app:get-path', name: 'userData' })).toBe(join(support, 'Cellar'));
    await screenshot(page, 'desktop-06-library-moved');
  }, 120_000);

  it('stays open without windows and opens one again on activate', async () => {
    const [first] = [...app.windows.values()];
    app.requestClose(first!.id);
    await expect.poll(() => first!.destroyed, { timeout: 30_000 }).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(app.child.exitCode).toBeNull();
    app.send({ type: 'app:activate' });
    await expect.poll(() => [...app.windows.values()].filter((w) => !w.destroyed && w.page).length, { timeout: 60_000 }).toBe(1);
    const { page } = await app.firstWindow();
    await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor({ timeout: 30_000 });
    expect(app.errors).toEqual([]);
  }, 120_000);

  it('quits cleanly', async () => {
    expect(await app.quit()).toBe(0);
  }, 60_000);
});
