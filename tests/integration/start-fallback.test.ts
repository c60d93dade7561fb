// `npm start` always gives the user the app: on a Node too old for Electron (this machine's
// Node 20) it says why and serves the same app to the browser instead of stopping.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, removeDir, tempDir } from './helpers/cellar';

const home = tempDir('cellar-start-');
afterAll(() => removeDir(home));

describe('npm start on Node < 22.12', () => {
  it('explains, then serves the app to the browser until stopped', async () => {
    expect(Number(process.versions.node.split('.')[0])).toBeLessThan(22);
    const env: NodeJS.ProcessEnv = { ...process.env, CELLAR_HOME: home, CELLAR_NO_BROWSER: '1' };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'start.mjs')], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      void exited.then((code) => reject(new Error(`npm start exited with ${code}: ${stderr}`)));
    });
    const url = /^Cellar is serving at (http:\/\/127\.0\.0\.1:\d+\/\S*)$/.exec(first)?.[1];
    expect(url, first).toBeDefined();
    expect(stderr).toContain(`The desktop app needs Node >= 22.12 to start Electron (this is Node ${process.versions.node}). Opening the same app in your browser instead`);
    await expect.poll(() => stderr).toContain('Open that address in a browser on this machine.');
    // As a browser opens it: a redirect that keeps the token is followed with what it set.
    let page = await fetch(url!, { redirect: 'manual' });
    if (page.status >= 300 && page.status < 400) {
      const cookie = page.headers.get('set-cookie')?.split(';')[0];
      page = await fetch(new URL(page.headers.get('location')!, url), { headers: cookie ? { cookie } : {} });
    }
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root"></div>');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);
});
