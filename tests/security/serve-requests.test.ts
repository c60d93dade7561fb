// Attacks on `cellar serve`'s requests: who may call the API, with what, from where.
// Every refusal is checked by its status and by the home (and the folder around it)
// being exactly as before; the page's own requests still work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cellar, datasetPicture, FIXTURE, pageHeaders, rawRequest, startServe, type Served } from './helpers';

let root: string;
let home: string;
let served: Served;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cellar-attack-'));
  home = join(root, 'home');
  mkdirSync(home);
  expect(cellar(['import', FIXTURE, '--collection', 'pbmc', '--home', home, '--json']).status).toBe(0);
  expect(cellar(['concat', '--collection', 'pbmc', '--store', 'lab/pbmc', '--home', home, '--json']).status).toBe(0);
  expect(cellar(['concat', '--collection', 'pbmc', '--store', '../../../pwned', '--home', home, '--json']).status).toBe(0);
  served = await startServe(home);
}, 180_000);

afterAll(async () => {
  await served?.stop();
  rmSync(root, { recursive: true, force: true });
});

const api = (path: string) => `${served.origin}${path}`;
const concatBody = JSON.stringify({ collectionKey: 'pbmc', storeKey: 'made-by-attacker' });

/** Runs `attack` and checks the answer's status and that no dataset changed anywhere around the home. */
async function refused(attack: () => Promise<{ status: number; text?: string }>, status: number): Promise<string> {
  const before = datasetPicture(root);
  const res = await attack();
  expect(res.status).toBe(status);
  // A started job would write within moments: give it the chance to show up.
  await new Promise((r) => setTimeout(r, 300));
  expect(datasetPicture(root)).toEqual(before);
  return res.text ?? '';
}

async function post(path: string, headers: Record<string, string>, body: string = concatBody) {
  const res = await fetch(api(path), { method: 'POST', headers, body });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function jobResult(id: string): Promise<{ state: string; result?: { path: string; download: string | null } }> {
  for (let i = 0; i < 200; i++) {
    const res = await post('/api/invoke/jobs:list', pageHeaders(served), '');
    const jobs = (JSON.parse(res.text) as { value: { id: string; state: string; result?: { path: string; download: string | null } }[] }).value;
    const job = jobs.find((j) => j.id === id);
    if (job && job.state !== 'running') return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not end`);
}

describe('the token travels only in a header', () => {
  it('refuses a state-changing request without the token (401)', async () => {
    const { 'x-cellar-token': _, ...noToken } = pageHeaders(served);
    expect(await refused(() => post('/api/invoke/concat:start', noToken), 401)).toContain('needs the token');
  });
  it('refuses the token in a cookie only (401): cookies go to every port of the host', async () => {
    await refused(() => post('/api/invoke/concat:start', pageHeaders(served, { 'x-cellar-token': '', cookie: `cellar_token=${served.token}` })), 401);
  });
  it('refuses the token in the query of an API request (401)', async () => {
    await refused(() => post(`/api/invoke/concat:start?token=${served.token}`, pageHeaders(served, { 'x-cellar-token': '' })), 401);
  });
  it('refuses a wrong token of the right length (401)', async () => {
    const wrong = served.token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    await refused(() => post('/api/invoke/concat:start', pageHeaders(served, { 'x-cellar-token': wrong })), 401);
  });
  it('refuses the event stream without the token (401)', async () => {
    const res = await fetch(api('/api/events'), { headers: { 'sec-fetch-site': 'same-origin' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });
  it('serves the page without setting any cookie, and never answers with CORS permissions', async () => {
    const page = await fetch(served.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toBeNull();
    expect(page.headers.get('access-control-allow-origin')).toBeNull();
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const api401 = await fetch(api('/api/invoke/library:list'), { method: 'POST', headers: { origin: 'http://evil.example' } });
    expect(api401.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('only the served origin may call the API', () => {
  it('refuses Origin: http://evil.example with a valid token (403)', async () => {
    expect(await refused(() => post('/api/invoke/concat:start', pageHeaders(served, { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' })), 403)).toContain('only its own page');
  });
  it('refuses a forged Origin even without Sec-Fetch-Site (403)', async () => {
    const { 'sec-fetch-site': _, ...headers } = pageHeaders(served, { origin: 'http://evil.example' });
    await refused(() => post('/api/invoke/concat:start', headers), 403);
  });
  it('refuses a page from another port of the same host (403)', async () => {
    await refused(() => post('/api/invoke/concat:start', pageHeaders(served, { origin: `http://127.0.0.1:${served.port + 1}`, 'sec-fetch-site': 'same-site' })), 403);
  });
  it('refuses localhost as Origin when the page was served as 127.0.0.1 (403)', async () => {
    await refused(() => post('/api/invoke/concat:start', pageHeaders(served, { origin: `http://localhost:${served.port}` })), 403);
  });
  it('refuses Origin: null (a sandboxed frame or a file:// page) (403)', async () => {
    await refused(() => post('/api/invoke/concat:start', pageHeaders(served, { origin: 'null' })), 403);
  });
  it('refuses Sec-Fetch-Site: cross-site, same-site and none even with the right Origin (403)', async () => {
    for (const site of ['cross-site', 'same-site', 'none']) await refused(() => post('/api/invoke/concat:start', pageHeaders(served, { 'sec-fetch-site': site })), 403);
  });
  it('refuses a state-changing request that does not say its Origin (403)', async () => {
    const { origin: _, ...headers } = pageHeaders(served);
    await refused(() => post('/api/invoke/concat:start', headers), 403);
  });
  it('refuses reads (the event stream) from another origin too (403)', async () => {
    const res = await fetch(api('/api/events'), { headers: { 'x-cellar-token': served.token, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(res.status).toBe(403);
  });
  it('refuses a CORS preflight without granting anything (403)', async () => {
    const res = await fetch(api('/api/invoke/concat:start'), { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-cellar-token' } });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-headers')).toBeNull();
  });
});

describe('a cross-site form cannot post', () => {
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain; charset=utf-8']) {
    it(`refuses Content-Type ${type} (415)`, async () => {
      await refused(() => post('/api/invoke/concat:start', pageHeaders(served, { 'content-type': type })), 415);
    });
  }
  it('refuses a request with no Content-Type (415)', async () => {
    const { 'content-type': _, ...headers } = pageHeaders(served);
    await refused(() => post('/api/invoke/concat:start', headers), 415);
  });
  it('refuses an upload sent as text/plain (415)', async () => {
    await refused(() => post('/api/upload?name=x.h5ad', pageHeaders(served, { 'content-type': 'text/plain' }), 'bytes'), 415);
  });
  it('refuses a GET of a state-changing channel (405)', async () => {
    await refused(async () => {
      const res = await fetch(api('/api/invoke/concat:start'), { headers: { 'x-cellar-token': served.token } });
      return { status: res.status };
    }, 405);
  });
});

describe('the Host header must name this server', () => {
  for (const host of ['evil.example', 'evil.example:PORT', '127.0.0.1.evil.example:PORT', 'localhost.evil.example:PORT', '127.0.0.1', '127.0.0.1:1', '']) {
    it(`refuses Host: "${host}" (403, DNS rebinding)`, async () => {
      const value = host.replace('PORT', String(served.port));
      const res = await rawRequest(served.port, `POST /api/invoke/library:list HTTP/1.1\r\nHost: ${value}\r\nOrigin: http://${value}\r\nX-Cellar-Token: ${served.token}\r\nContent-Type: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      expect(res.status).toBe(403);
      expect(res.body).toContain('Forbidden host.');
      expect(res.body).not.toContain('pbmc');
    });
  }
});

describe('malformed addresses get 400, before anything else is said', () => {
  const cases: [string, string][] = [
    ['a broken percent-escape in the path', '/%E0%A4%A'],
    ['a lone percent sign', '/api/invoke/library:list%'],
    ['an escape that is not hex', '/api/invoke/%ZZ'],
    ['an invalid UTF-8 sequence', '/%C0%AF'],
    ['a broken escape in the query', '/api/upload?name=%E0%A4%A'],
    ['an encoded NUL', '/index.html%00.js'],
    ['an encoded backslash climbing out', '/..%5c..%5cetc%5cpasswd'],
    ['an absolute-form target', 'http://evil.example/'],
    ['an asterisk target', '*'],
  ];
  for (const [what, target] of cases) {
    it(`answers 400 to ${what}, with or without the token`, async () => {
      for (const token of ['', `X-Cellar-Token: ${served.token}\r\n`]) {
        const before = datasetPicture(root);
        const res = await rawRequest(served.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\n${token}Connection: close\r\n\r\n`);
        expect(res.status).toBe(400);
        expect(JSON.parse(res.body)).toEqual({ ok: false, error: { code: 'usage', message: 'Malformed request address.' } });
        expect(datasetPicture(root)).toEqual(before);
      }
    });
  }
  it('answers a request with an encoded ../ in the path 403, never a file outside the page', async () => {
    const res = await rawRequest(served.port, `GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\nConnection: close\r\n\r\n`);
    expect(res.status).toBe(403);
    expect(res.body).not.toContain('root:');
  });
});

describe('WebSocket upgrades', () => {
  const upgrade = (origin: string | null) =>
    rawRequest(
      served.port,
      `GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\n${origin === null ? '' : `Origin: ${origin}\r\n`}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ${served.token}\r\n\r\n`,
    );
  it('refuses an upgrade from a foreign origin (403)', async () => {
    expect((await upgrade('http://evil.example')).status).toBe(403);
    expect((await upgrade(`http://127.0.0.1:${served.port + 1}`)).status).toBe(403);
    expect((await upgrade(null)).status).toBe(403);
  });
  it('has no WebSocket endpoint even for its own page (404): events come over an authenticated fetch', async () => {
    expect((await upgrade(served.origin)).status).toBe(404);
  });
});

describe('exports and downloads', () => {
  it('exports a store whose key holds a slash (lab/pbmc) into the exports folder', async () => {
    const start = await post('/api/invoke/export:start', pageHeaders(served), JSON.stringify({ storeKey: 'lab/pbmc', format: 'csv' }));
    const { value } = JSON.parse(start.text) as { value: { id: string } };
    const job = await jobResult(value.id);
    expect(job.state).toBe('completed');
    expect(job.result!.path.startsWith(join(home, 'exports') + '/')).toBe(true);
    expect(job.result!.path).toMatch(/\/[0-9a-z]+-lab_pbmc-slice\.csv$/);
    expect(readFileSync(job.result!.path, 'utf8').split('\n')[0]).toContain('obs_id');
  });

  it('keeps an export of a store named ../../../pwned inside the exports folder', async () => {
    const before = readdirSync(root);
    const start = await post('/api/invoke/export:start', pageHeaders(served), JSON.stringify({ storeKey: '../../../pwned', format: 'csv' }));
    const job = await jobResult((JSON.parse(start.text) as { value: { id: string } }).value.id);
    expect(job.state).toBe('completed');
    expect(job.result!.path).toMatch(new RegExp(`^${join(home, 'exports')}/[0-9a-z]+-pwned-slice\\.csv$`));
    expect(readdirSync(root)).toEqual(before);
    expect(readdirSync(join(root, '..')).filter((n) => n.includes('pwned'))).toEqual([]);
  });

  it('downloads only through a one-time ticket that the page asks for with its token', async () => {
    const start = await post('/api/invoke/export:start', pageHeaders(served), JSON.stringify({ storeKey: 'lab/pbmc', format: 'csv' }));
    const job = await jobResult((JSON.parse(start.text) as { value: { id: string } }).value.id);
    const reference = job.result!.download!;
    expect(reference).toMatch(/^\/api\/download\/[0-9a-f-]{36}$/);
    // A plain GET of the reference (an <img>, a link from elsewhere) gets nothing.
    expect((await fetch(api(reference))).status).toBe(401);
    // A ticket needs the token, the origin and JSON like any other state-changing request.
    expect((await post(reference, pageHeaders(served, { 'x-cellar-token': '' }), '{}')).status).toBe(401);
    expect((await post(reference, pageHeaders(served, { origin: 'http://evil.example' }), '{}')).status).toBe(403);
    expect((await post(reference, pageHeaders(served, { 'content-type': 'text/plain' }), '{}')).status).toBe(415);
    const ticket = await post(reference, pageHeaders(served), '{}');
    expect(ticket.status).toBe(200);
    const { url } = (JSON.parse(ticket.text) as { value: { url: string } }).value;
    expect(url).toMatch(new RegExp(`^${reference}\\?ticket=[A-Za-z0-9_-]{32}$`));
    // Fetched from another site, the ticket is refused and stays unused.
    expect((await fetch(api(url), { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await fetch(api(url), { headers: { 'sec-fetch-site': 'same-site' } })).status).toBe(403);
    const file = await fetch(api(url), { headers: { 'sec-fetch-site': 'same-origin' } });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="[0-9a-z]+-lab_pbmc-slice\.csv"$/);
    expect(await file.text()).toBe(readFileSync(job.result!.path, 'utf8'));
    // Used once, gone.
    expect((await fetch(api(url))).status).toBe(401);
    // A ticket of one download does not open another.
    const other = (JSON.parse((await post(reference, pageHeaders(served), '{}')).text) as { value: { url: string } }).value.url;
    expect((await fetch(api(other.replace(/download\/[^?]+/, 'download/00000000-0000-0000-0000-000000000000')))).status).toBe(401);
  });
});

describe('the page itself', () => {
  it('runs a channel with its token, origin and JSON (200)', async () => {
    const res = await post('/api/invoke/library:list', pageHeaders(served), '');
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { ok: boolean; value: { stores: { key: string }[] } };
    expect(body.ok).toBe(true);
    expect(body.value.stores.map((s) => s.key).sort()).toEqual(['../../../pwned', 'lab/pbmc']);
  });
  it('streams events to a request carrying the token (200, text/event-stream)', async () => {
    const controller = new AbortController();
    const res = await fetch(api('/api/events'), { headers: { 'x-cellar-token': served.token, 'sec-fetch-site': 'same-origin' }, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    controller.abort();
  });
});
