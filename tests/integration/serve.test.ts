import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, sep } from 'node:path';
import { CONTENT_SECURITY_POLICY } from '../../src/main/shell/security';
import { startServer, type RunningServer } from '../../src/main/serve/server';
import { createService, type Service } from '../../src/main/service/handlers';
import { openRegistry } from '../../src/main/registry/registry';

let server: RunningServer;
let service: Service;
let root: string;
const files = new Map<string, string>();

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cellar-serve-'));
  const staticDir = join(root, 'static');
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Cellar</title>');
  const home = join(root, 'home');
  const reg = openRegistry(home);
  reg.createCollection({ key: 'pbmc', members: [] });
  reg.close();
  service = createService({ home, mode: 'browser', version: '0.1.0', files });
  server = await startServer({
    staticDir,
    handlers: service.handlers,
    validators: service.validators,
    uploadDir: join(home, 'storage', 'uploads'),
    registerFile: (p) => {
      files.set('tok-1', p);
      return 'tok-1';
    },
  });
});

afterAll(async () => {
  await server.close();
  service.close();
  rmSync(root, { recursive: true, force: true });
});

const base = () => `http://127.0.0.1:${server.port}`;
/** What the served page sends: its own origin, the token header and a JSON body. */
const fromPage = (extra: Record<string, string> = {}) => ({ origin: base(), 'x-cellar-token': server.token, 'content-type': 'application/json', ...extra });

describe('cellar serve', () => {
  it('prints a loopback URL carrying the token', () => {
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[A-Za-z0-9_-]{32}$`));
  });
  it('serves the app page to anyone on loopback, with a CSP, and sets no cookie', async () => {
    const page = await fetch(server.url, { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toBeNull();
    expect(await page.text()).toContain('<title>Cellar</title>');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
  });
  it('answers 401 to API requests without the token in its header', async () => {
    expect((await fetch(`${base()}/api/invoke/library:list`, { method: 'POST', headers: fromPage({ 'x-cellar-token': '' }) })).status).toBe(401);
    expect((await fetch(`${base()}/api/invoke/library:list?token=${server.token}`, { method: 'POST', headers: fromPage({ 'x-cellar-token': '' }) })).status).toBe(401);
    expect((await fetch(`${base()}/api/invoke/library:list`, { method: 'POST', headers: fromPage({ 'x-cellar-token': '', cookie: `cellar_token=${server.token}` }) })).status).toBe(401);
  });
  it('runs contract channels and returns the result envelope', async () => {
    const res = await fetch(`${base()}/api/invoke/library:list`, { method: 'POST', headers: fromPage() });
    const body = (await res.json()) as { ok: boolean; value: { collections: { key: string }[] } };
    expect(body.ok).toBe(true);
    expect(body.value.collections.map((c) => c.key)).toEqual(['pbmc']);
    const unknown = await fetch(`${base()}/api/invoke/fs:read`, { method: 'POST', headers: fromPage() });
    expect(unknown.status).toBe(404);
    const bad = await fetch(`${base()}/api/invoke/file:inspect`, { method: 'POST', headers: fromPage(), body: JSON.stringify({}) });
    expect(await bad.json()).toEqual({ ok: false, error: { code: 'usage', message: 'file:inspect: "fileToken" must be a string.' } });
  });
  it('stores uploads in the home under a safe name and hands back a token, not a path', async () => {
    const res = await fetch(`${base()}/api/upload?name=../../evil.h5ad`, { method: 'POST', headers: fromPage({ 'content-type': 'application/octet-stream' }), body: 'HDF5-ish bytes' });
    const body = (await res.json()) as { ok: boolean; value: { fileToken: string; name: string } };
    expect(body).toEqual({ ok: true, value: { fileToken: 'tok-1', name: 'evil.h5ad', size: 14 } });
    const stored = files.get('tok-1')!;
    expect(stored.startsWith(join(root, 'home', 'storage', 'uploads') + sep)).toBe(true);
    expect(basename(stored)).toBe('evil.h5ad');
    expect(readFileSync(stored, 'utf8')).toBe('HDF5-ish bytes');
  });
  it('refuses path traversal and foreign Host headers', async () => {
    const res = await fetch(`${base()}/..%2F..%2Fetc%2Fpasswd`);
    expect(res.status).toBe(403);
    const http = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      http.get({ host: '127.0.0.1', port: server.port, path: '/', headers: { host: 'evil.example' } }, (r) => resolve(r.statusCode ?? 0));
    });
    expect(status).toBe(403);
  });
});

describe('cellar serve uploads that stall', () => {
  it('drops an upload that sends nothing for the idle time and removes its partial file', async () => {
    const dir = join(root, 'stall-uploads');
    const stalling = await startServer({
      staticDir: join(root, 'static'),
      handlers: service.handlers,
      validators: service.validators,
      uploadDir: dir,
      uploadLimits: { idleMs: 300 },
      registerFile: () => 'never',
    });
    try {
      const http = await import('node:http');
      const answer = await new Promise<{ status: number; body: string }>((resolve) => {
        const req = http.request(
          { host: '127.0.0.1', port: stalling.port, method: 'POST', path: '/api/upload?name=slow.h5ad', headers: { origin: `http://127.0.0.1:${stalling.port}`, 'x-cellar-token': stalling.token, 'content-type': 'application/octet-stream', 'content-length': 1000 } },
          (res) => {
            let body = '';
            res.on('data', (d) => (body += String(d)));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.write('only the first bytes');
      });
      expect(answer.status).toBe(408);
      expect(JSON.parse(answer.body)).toEqual({ ok: false, error: { code: 'io_error', message: 'Upload of slow.h5ad failed: nothing arrived for 0.3 s.' } });
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await stalling.close();
    }
  });
});
