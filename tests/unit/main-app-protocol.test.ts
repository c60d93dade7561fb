// The window's page is served from app://cellar/ by the app's own protocol handler: only
// files of the built renderer, with the app's content security policy on every answer.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_INDEX_URL, appProtocolResponse } from '../../src/main/shell/app-protocol';
import { CONTENT_SECURITY_POLICY } from '../../src/main/shell/security';

const root = mkdtempSync(join(tmpdir(), 'cellar-protocol-'));
const renderer = join(root, 'renderer');
mkdirSync(join(renderer, 'assets'), { recursive: true });
writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Cellar</title>');
writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)');
writeFileSync(join(root, 'secret.txt'), 'not for the page');

const get = (url: string, method = 'GET') => appProtocolResponse({ url, method }, renderer);

describe('app:// protocol', () => {
  it('serves the page and its assets with their types and the CSP', async () => {
    const index = await get(APP_INDEX_URL);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await index.text()).toContain('<title>Cellar</title>');
    const script = await get('app://cellar/assets/app.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe('console.log(1)');
    expect((await get('app://cellar/')).status).toBe(200);
  });
  it('never leaves the renderer folder, whatever the encoding of the path', async () => {
    for (const url of ['app://cellar/../secret.txt', 'app://cellar/%2e%2e/secret.txt', 'app://cellar/assets/%2E%2E%2F..%2Fsecret.txt', 'app://cellar/..%5csecret.txt']) {
      const r = await get(url);
      expect([403, 404], url).toContain(r.status);
      expect(await r.text(), url).not.toContain('not for the page');
    }
  });
  it('answers only its own host and only reads', async () => {
    expect((await get('app://other/index.html')).status).toBe(404);
    expect((await get('file:///etc/passwd')).status).toBe(404);
    expect((await get(APP_INDEX_URL, 'POST')).status).toBe(405);
    expect((await get('app://cellar/%E0%A4%A')).status).toBe(400);
    expect((await get('app://cellar/missing.js')).status).toBe(404);
  });
});
