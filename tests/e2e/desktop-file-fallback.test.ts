// A runtime that cannot serve custom schemes (a minimal stand-in for Electron, without
// `protocol`) still gets the app: the page loads from the built renderer's file:// address,
// and the IPC sender check trusts that one file and no other file:// page.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers';
import { bootDesktopApp, isolatedUserEnv } from './desktop/harness';

const user = mkdtempSync(join(tmpdir(), 'cellar-desktop-file-'));
afterAll(() => rmSync(user, { recursive: true, force: true }));

describe('the desktop app without a custom scheme', () => {
  it('loads its page from file:// and trusts only that page', async () => {
    const app = await bootDesktopApp({ appRoot: ROOT, env: isolatedUserEnv(user, { CELLAR_STANDIN_WITHOUT: 'protocol' }) });
    try {
      const { page } = await app.firstWindow();
      expect(page.url()).toBe(pathToFileURL(join(ROOT, 'out', 'renderer', 'index.html')).href);
      await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('home-location').locator('code').textContent()).toBe(join(user, 'data', 'Cellar'));
      const own = await app.ask<{ ok: boolean }>({ type: 'ipc:invoke-as', frameUrl: `${page.url()}#/library`, channel: 'app:info', args: [undefined] });
      expect(own).toMatchObject({ ok: true, value: { mode: 'desktop' } });
      const other = await app.ask<{ ok: boolean }>({ type: 'ipc:invoke-as', frameUrl: pathToFileURL(join(user, 'evil.html')).href, channel: 'app:info', args: [undefined] });
      expect(other).toMatchObject({ ok: false, error: { code: 'usage' } });
      expect(app.errors).toEqual([]);
    } finally {
      await app.quit();
    }
  }, 120_000);
});
