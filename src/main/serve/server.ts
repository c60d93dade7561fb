// Browser mode: the desktop app's renderer and the same typed contract over HTTP on
// loopback, answering only its own page. The page is public (it is the app's bundle);
// every /api/ request needs the per-launch token in the X-Cellar-Token header (never a
// cookie: cookies ignore ports), must come from the served origin, and a state-changing
// one must carry a content type a cross-site form cannot send. Events stream as
// Server-Sent Events over a fetch that carries the same header.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { basename, extname, join, normalize, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { decodeJson, encodeJson, isChannel, type Channel, type EventName, type Events } from '../../shared/contract';
import { CellarError, type ErrorCode } from '../../shared/errors';
import { runHandler, type Handlers, type Validators } from '../ipc/handle';
import { CONTENT_SECURITY_POLICY, PAGE_MIME_TYPES } from '../shell/security';
import { pathInside, safeUploadName, uploadedBytes } from './uploads';
import { formatBytes } from '../../shared/format-number';

export interface UploadLimits {
  /** Largest single upload. */
  perFileBytes: number;
  /** Largest total of every upload in the uploads folder (all servers of the home). */
  totalBytes: number;
  /** An upload that sends nothing for this long is dropped (and its partial file removed). */
  idleMs: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { perFileBytes: 16 * 1024 ** 3, totalBytes: 64 * 1024 ** 3, idleMs: 120_000 };

export interface ServeOptions {
  /** A literal address (see resolveServeHost); names are only for --allow-remote. */
  host?: string;
  /** Listening beyond loopback: Host headers naming any IP address of this machine are answered too. */
  allowRemote?: boolean;
  port?: number;
  staticDir: string;
  handlers: Handlers;
  validators: Validators;
  /** This server's own folder for uploads (inside the home's managed storage). */
  uploadDir: string;
  /** The folder the total limit covers; defaults to uploadDir. */
  uploadRoot?: string;
  /** Registers an uploaded file and returns its token. */
  registerFile(path: string): string;
  token?: string;
  uploadLimits?: Partial<UploadLimits>;
  /** Told after every upload that ended, kept or not. */
  onUploadsChanged?(usage: { bytes: number }): void;
}

export interface RunningServer {
  url: string;
  /** Makes a file in the home downloadable; returns the reference the page asks a ticket for. */
  offerDownload(path: string): string;
  token: string;
  port: number;
  emit<E extends EventName>(event: E, payload: Events[E]): void;
  close(): Promise<void>;
}

const TOKEN_HEADER = 'x-cellar-token';
/** A download ticket is used once, soon: it travels in a URL because a navigation cannot set headers. */
const TICKET_MS = 60_000;
/** After refusing an upload, read at most this much more so the client sees the answer, then hang up. */
const DISCARD_AFTER_REFUSAL = 8 * 1024 ** 2;
/** Sent with every answer: nobody frames, embeds or sniffs what this server says. */
const COMMON_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(24).toString('base64url');
  const staticRoot = resolve(options.staticDir);
  const limits: UploadLimits = { ...DEFAULT_UPLOAD_LIMITS, ...options.uploadLimits };
  const uploadRoot = options.uploadRoot ?? options.uploadDir;
  const sseClients = new Set<ServerResponse>();
  const downloads = new Map<string, string>();
  const tickets = new Map<string, { id: string; expires: number }>();
  let uploadsInFlight = 0;
  let port = 0;

  const tokenMatches = (candidate: unknown) => {
    if (typeof candidate !== 'string') return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const shownHost = host.includes(':') ? `[${host}]` : host;
  /** Host headers this server answers (anything else is DNS rebinding or a stray request). */
  const isServedHost = (hostHeader: string) => {
    const loopbackNames = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${shownHost}:${port}`];
    if (loopbackNames.includes(hostHeader)) return true;
    // Remote clients name an address, never a DNS name another party could point here.
    const m = /^(\[[0-9a-f:.]+\]|[0-9.]+):(\d+)$/.exec(hostHeader);
    return !!options.allowRemote && !!m && Number(m[2]) === port && isIP(m[1]!.replace(/^\[|\]$/g, '')) !== 0;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof Refusal) return refuse(res, err);
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'internal', message: `Unexpected error: ${(err as Error).message}` } });
      else res.end();
    });
  });
  // Uploads of several gigabytes take longer than Node's default 5-minute request limit;
  // an upload that stalls is dropped by its own idle timer instead.
  server.requestTimeout = 0;
  // There is no WebSocket endpoint: every upgrade is refused, a foreign one as forbidden.
  server.on('upgrade', (req: IncomingMessage, socket) => {
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    const own = isServedHost(hostHeader) && req.headers.origin === `http://${hostHeader}`;
    socket.end(own ? 'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n' : 'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (!isServedHost(hostHeader)) throw new Refusal(403, 'usage', 'Forbidden host.');
    const target = parseTarget(req.url ?? '');
    if (!target) throw new Refusal(400, 'usage', 'Malformed request address.');
    const { path, query } = target;
    if (path.startsWith('/api/')) return api(req, res, path, query, hostHeader);
    if (req.method === 'GET' || req.method === 'HEAD') return serveStatic(path, req.method, res);
    throw new Refusal(405, 'usage', 'Method not allowed.');
  }

  async function api(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, hostHeader: string): Promise<void> {
    const method = req.method ?? 'GET';
    const downloadMatch = /^\/api\/download\/([\w-]+)$/.exec(path);
    const isDownloadFetch = downloadMatch !== null && method === 'GET';
    checkSameOrigin(req, hostHeader, { allowUserNavigation: isDownloadFetch });
    if (isDownloadFetch) return download(downloadMatch[1]!, query.get('ticket'), res);

    if (!tokenMatches(req.headers[TOKEN_HEADER])) {
      throw new Refusal(401, 'usage', 'Cellar needs the token printed by "cellar serve"; open the full address it printed.');
    }
    if (path === '/api/events') {
      if (method !== 'GET') throw new Refusal(405, 'usage', 'Method not allowed.');
      return events(res);
    }
    if (method !== 'POST') throw new Refusal(405, 'usage', 'Method not allowed.');
    if (path === '/api/upload') {
      requireContentType(req, 'application/octet-stream');
      return upload(query, req, res);
    }
    requireContentType(req, 'application/json');
    if (path.startsWith('/api/invoke/')) return invoke(path.slice('/api/invoke/'.length), req, res);
    if (downloadMatch) return issueTicket(downloadMatch[1]!, res);
    throw new Refusal(404, 'usage', 'Not found.');
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
    res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write(': connected\n\n');
    sseClients.add(res);
    res.on('close', () => sseClients.delete(res));
  }

  async function upload(query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const name = safeUploadName(query.get('name') ?? '');
    const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
    // What every server of this home keeps, plus what this one is receiving right now.
    const othersBytes = uploadedBytes(uploadRoot);
    const room = () => limits.totalBytes - othersBytes - uploadsInFlight;
    const tooLarge = (size: number) =>
      size > limits.perFileBytes
        ? `${name} is larger than the upload limit of ${formatBytes(limits.perFileBytes)}.`
        : size > room() + received
          ? `${name} does not fit: uploads waiting for import already take ${formatBytes(othersBytes)} of the ${formatBytes(limits.totalBytes)} allowed.`
          : null;
    let received = 0;
    if (declared !== null) {
      const refusal = tooLarge(declared);
      if (refusal) return refuseUpload(req, res, new Refusal(413, 'usage', refusal));
    }

    await mkdir(options.uploadDir, { recursive: true });
    const dir = pathInside(options.uploadDir, randomUUID());
    const target = pathInside(dir, name);
    const partial = pathInside(dir, `${name}.partial`);
    await mkdir(dir);
    try {
      await receive(req, partial, (bytes) => {
        received += bytes;
        uploadsInFlight += bytes;
        const refusal = tooLarge(received);
        if (refusal) throw new Refusal(413, 'usage', refusal);
      });
      await rename(partial, target);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      options.onUploadsChanged?.({ bytes: uploadedBytes(uploadRoot) });
      const refusal = err instanceof Refusal ? err : new Refusal(500, 'io_error', `Upload of ${name} failed: ${(err as Error).message}`);
      return refuseUpload(req, res, refusal);
    } finally {
      uploadsInFlight -= received;
    }
    options.onUploadsChanged?.({ bytes: uploadedBytes(uploadRoot) });
    sendJson(res, 200, { ok: true, value: { fileToken: options.registerFile(target), name, size: received } });
  }

  /** Writes the request body to `path`; `onBytes` may throw to stop (the request is then left unread). */
  function receive(req: IncomingMessage, path: string, onBytes: (n: number) => void): Promise<void> {
    return new Promise<void>((resolvePromise, reject) => {
      const out = createWriteStream(path, { flags: 'wx' });
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        req.off('data', onData);
        req.pause();
        out.destroy();
        out.once('close', () => reject(err));
      };
      const onData = (chunk: Buffer) => {
        try {
          onBytes(chunk.length);
        } catch (err) {
          return fail(err as Error);
        }
        if (!out.write(chunk)) {
          req.pause();
          out.once('drain', () => req.resume());
        }
      };
      req.setTimeout(limits.idleMs, () => fail(new Refusal(408, 'io_error', `Upload of ${basename(path, '.partial')} failed: nothing arrived for ${limits.idleMs / 1000} s.`)));
      req.on('data', onData);
      req.once('end', () => {
        if (settled) return;
        settled = true;
        out.end(() => resolvePromise());
      });
      req.once('close', () => {
        if (!req.complete) fail(new Error('the browser stopped sending'));
      });
      out.once('error', fail);
    });
  }

  /** Answers a refused upload; the rest of its body is skipped (a little) or the connection closed. */
  function refuseUpload(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
    res.setHeader('Connection', 'close');
    refuse(res, refusal);
    let skipped = 0;
    req.on('data', (chunk: Buffer) => {
      skipped += chunk.length;
      if (skipped > DISCARD_AFTER_REFUSAL) req.socket.destroy();
    });
    req.resume();
  }

  function issueTicket(id: string, res: ServerResponse): void {
    if (!downloads.has(id)) throw new Refusal(404, 'not_found', 'No such download.');
    const now = Date.now();
    for (const [t, entry] of tickets) if (entry.expires < now) tickets.delete(t);
    const ticket = randomBytes(24).toString('base64url');
    tickets.set(ticket, { id, expires: now + TICKET_MS });
    sendJson(res, 200, { ok: true, value: { url: `/api/download/${id}?ticket=${ticket}` } });
  }

  async function download(id: string, ticket: string | null, res: ServerResponse): Promise<void> {
    const entry = ticket === null ? undefined : tickets.get(ticket);
    if (ticket !== null) tickets.delete(ticket);
    if (!entry || entry.id !== id || entry.expires < Date.now()) throw new Refusal(401, 'usage', 'This download link has expired; use the Download button again.');
    const path = downloads.get(id);
    if (!path) throw new Refusal(404, 'not_found', 'No such download.');
    const size = (await stat(path)).size;
    res.writeHead(200, {
      ...COMMON_HEADERS,
      'Content-Type': 'application/octet-stream',
      'Content-Length': size,
      'Cache-Control': 'no-store',
      'Content-Disposition': `attachment; filename="${basename(path).replace(/[^\w.-]/g, '_')}"`,
    });
    await pipeline(createReadStream(path), res);
  }

  async function serveStatic(pathname: string, method: string, res: ServerResponse): Promise<void> {
    const rel = pathname === '/' || pathname === '' ? '/index.html' : pathname;
    const full = normalize(join(staticRoot, rel));
    if (!full.startsWith(staticRoot + sep)) throw new Refusal(403, 'usage', 'Forbidden.');
    let file = full;
    try {
      const s = await stat(file);
      if (!s.isFile()) throw new Error('not a file');
    } catch {
      // Client-side routes fall back to the app page.
      if (extname(rel)) throw new Refusal(404, 'usage', 'Not found.');
      file = join(staticRoot, 'index.html');
    }
    res.writeHead(200, {
      ...COMMON_HEADERS,
      'Content-Type': PAGE_MIME_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'Cache-Control': 'no-cache',
    });
    if (method === 'HEAD') return void res.end();
    await pipeline(createReadStream(file), res);
  }

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolvePromise());
  });
  port = (server.address() as { port: number }).port;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    offerDownload: (path) => {
      const id = randomUUID();
      downloads.set(id, path);
      return `/api/download/${id}`;
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

/**
 * An /api/ request must come from the served page: a browser says where a request comes
 * from (Sec-Fetch-Site, Origin), and a state-changing one always carries Origin. A request
 * from another port of the same host is same-site, not same-origin, and is refused.
 */
function checkSameOrigin(req: IncomingMessage, hostHeader: string, { allowUserNavigation }: { allowUserNavigation: boolean }): void {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && !(allowUserNavigation && site === 'none')) {
    throw new Refusal(403, 'usage', 'Cellar answers only its own page.');
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${hostHeader}`) throw new Refusal(403, 'usage', 'Cellar answers only its own page.');
  const changesState = req.method !== 'GET' && req.method !== 'HEAD';
  if (changesState && origin === undefined) throw new Refusal(403, 'usage', 'A request that changes something must say its Origin.');
}

/** Only types a cross-site form cannot send (it can send text/plain, urlencoded or multipart). */
function requireContentType(req: IncomingMessage, expected: string): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== expected) throw new Refusal(415, 'usage', `This request must be sent as ${expected}.`);
}

/** The request target split and decoded, or null when it is not a well-formed origin-form path. */
export function parseTarget(raw: string): { path: string; query: URLSearchParams } | null {
  if (!raw.startsWith('/') || raw.startsWith('//')) return null;
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const rawQuery = q < 0 ? '' : raw.slice(q + 1);
  const badEscape = /%(?![0-9a-fA-F]{2})/;
  if (badEscape.test(rawPath) || badEscape.test(rawQuery) || rawQuery.includes('#')) return null;
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
    for (const part of rawQuery.split('&')) decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return null;
  }
  if (/[\0\\]/.test(path)) return null;
  return { path, query: new URLSearchParams(rawQuery) };
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

function refuse(res: ServerResponse, refusal: Refusal): void {
  if (res.headersSent) return void res.end();
  sendJson(res, refusal.status, { ok: false, error: { code: refusal.code, message: refusal.message } });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = encodeJson(body);
  res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}
