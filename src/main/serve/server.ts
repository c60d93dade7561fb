// Browser mode: the desktop app's renderer and the same typed contract over HTTP on
// loopback. Every request needs the per-launch token (query on first load, then a
// cookie or header); events stream as Server-Sent Events.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { basename, extname, join, normalize, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { decodeJson, encodeJson, isChannel, type Channel, type EventName, type Events } from '../../shared/contract';
import { CellarError } from '../../shared/errors';
import { runHandler, type Handlers, type Validators } from '../ipc/handle';
import { CONTENT_SECURITY_POLICY } from '../security';

export interface ServeOptions {
  host?: string;
  port?: number;
  staticDir: string;
  handlers: Handlers;
  validators: Validators;
  /** Where uploaded files land (inside the home's managed storage). */
  uploadDir: string;
  /** Registers an uploaded file and returns its token. */
  registerFile(path: string): string;
  token?: string;
  maxUploadBytes?: number;
}

export interface RunningServer {
  url: string;
  /** Makes a file in the home downloadable; returns the URL path to fetch it. */
  offerDownload(path: string): string;
  token: string;
  port: number;
  emit<E extends EventName>(event: E, payload: Events[E]): void;
  close(): Promise<void>;
}

const COOKIE = 'cellar_token';
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(24).toString('base64url');
  const staticRoot = resolve(options.staticDir);
  const sseClients = new Set<ServerResponse>();
  const downloads = new Map<string, string>();
  let port = 0;

  const tokenMatches = (candidate: string | undefined | null) => {
    if (!candidate) return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'internal', message: `Unexpected error: ${(err as Error).message}` } });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${host}`);
    // Refuse requests addressed to other host names (DNS rebinding).
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (![`127.0.0.1:${port}`, `localhost:${port}`, `${host}:${port}`, `[::1]:${port}`].includes(hostHeader)) {
      return sendText(res, 403, 'Forbidden host.');
    }
    const fromQuery = url.searchParams.get('token');
    const fromCookie = parseCookies(req.headers.cookie)[COOKIE];
    const fromHeader = req.headers['x-cellar-token'];
    if (!(tokenMatches(fromQuery) || tokenMatches(fromCookie) || tokenMatches(typeof fromHeader === 'string' ? fromHeader : null))) {
      return sendText(res, 401, 'Cellar needs the token printed by "cellar serve"; open the full address it printed.');
    }
    if (tokenMatches(fromQuery) && req.method === 'GET' && !url.pathname.startsWith('/api/')) {
      // Keep the token in a cookie and drop it from the address bar.
      res.setHeader('Set-Cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      url.searchParams.delete('token');
      res.writeHead(302, { Location: url.pathname + (url.search || '') });
      res.end();
      return;
    }
    if (url.pathname.startsWith('/api/invoke/') && req.method === 'POST') return invoke(url.pathname.slice('/api/invoke/'.length), req, res);
    if (url.pathname === '/api/events' && req.method === 'GET') return events(res);
    if (url.pathname === '/api/upload' && req.method === 'POST') return upload(url, req, res);
    if (url.pathname === '/api/download' && req.method === 'GET') return download(url, res);
    if (req.method === 'GET' || req.method === 'HEAD') return serveStatic(url.pathname, res);
    return sendText(res, 405, 'Method not allowed.');
  }

  async function invoke(channel: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isChannel(channel)) return sendJson(res, 404, { ok: false, error: { code: 'usage', message: `Unknown channel ${channel}.` } });
    let payload: unknown;
    try {
      const body = await readBody(req, 1 << 20);
      payload = body.length ? decodeJson(body.toString('utf8')) : undefined;
    } catch {
      return sendJson(res, 400, { ok: false, error: { code: 'usage', message: 'The request body is not valid JSON.' } });
    }
    const result = await runHandler(options.handlers[channel as Channel] as never, options.validators[channel as Channel] as never, payload);
    sendJson(res, 200, result);
  }

  function events(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.write(': connected\n\n');
    sseClients.add(res);
    res.on('close', () => sseClients.delete(res));
  }

  async function upload(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const name = basename(url.searchParams.get('name') ?? 'upload.h5ad').replace(/[^\w.\- ]+/g, '_') || 'upload.h5ad';
    const limit = options.maxUploadBytes ?? 64 * 1024 ** 3;
    if (Number(req.headers['content-length'] ?? 0) > limit) return sendJson(res, 413, { ok: false, error: { code: 'usage', message: `${name} is larger than the upload limit.` } });
    await mkdir(options.uploadDir, { recursive: true });
    const dir = join(options.uploadDir, randomUUID());
    await mkdir(dir);
    const target = join(dir, name);
    try {
      await pipeline(req, createWriteStream(`${target}.partial`));
      await rename(`${target}.partial`, target);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      return sendJson(res, 500, { ok: false, error: { code: 'io_error', message: `Upload of ${name} failed: ${(err as Error).message}` } });
    }
    sendJson(res, 200, { ok: true, value: { fileToken: options.registerFile(target), name, size: (await stat(target)).size } });
  }

  async function download(url: URL, res: ServerResponse): Promise<void> {
    const path = downloads.get(url.searchParams.get('id') ?? '');
    if (!path) return sendText(res, 404, 'No such download.');
    const size = (await stat(path)).size;
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size, 'Content-Disposition': `attachment; filename="${basename(path).replace(/"/g, '')}"` });
    await pipeline(createReadStream(path), res);
  }

  async function serveStatic(pathname: string, res: ServerResponse): Promise<void> {
    let rel = decodeURIComponent(pathname);
    if (rel === '/' || rel === '') rel = '/index.html';
    const full = normalize(join(staticRoot, rel));
    if (!full.startsWith(staticRoot + sep)) return sendText(res, 403, 'Forbidden.');
    let file = full;
    try {
      const s = await stat(file);
      if (!s.isFile()) throw new Error('not a file');
    } catch {
      // Client-side routes fall back to the app page.
      if (extname(rel)) return sendText(res, 404, 'Not found.');
      file = join(staticRoot, 'index.html');
    }
    res.writeHead(200, {
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
    });
    await pipeline(createReadStream(file), res);
  }

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolvePromise());
  });
  port = (server.address() as { port: number }).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    offerDownload: (path) => {
      const id = randomUUID();
      downloads.set(id, path);
      return `/api/download?id=${id}`;
    },
    port,
    emit: (event, payload) => {
      const data = `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
      for (const client of sseClients) client.write(data);
    },
    close: () =>
      new Promise<void>((resolvePromise) => {
        for (const client of sseClients) client.end();
        server.close(() => resolvePromise());
        server.closeAllConnections();
      }),
  };
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return out;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new CellarError('usage', 'The request is too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = encodeJson(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}
