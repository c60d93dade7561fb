// Attacks through uploads: hostile names, bodies larger than allowed (declared or
// chunked), uploads that stop half-way, and what a crashed server leaves behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetPicture, diskPicture, pageHeaders, startServe, type Served } from './helpers';

const PER_FILE = 1024 * 1024;
const TOTAL = 1536 * 1024;
const LIMITS = { CELLAR_MAX_UPLOAD: '1M', CELLAR_MAX_UPLOADS_TOTAL: '1536K' };

let root: string;
let home: string;
let uploads: string;
let served: Served;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cellar-upload-attack-'));
  home = join(root, 'home');
  mkdirSync(home);
  uploads = join(home, 'storage', 'uploads');
  served = await startServe(home, [], LIMITS);
}, 180_000);

afterAll(async () => {
  await served?.stop();
  rmSync(root, { recursive: true, force: true });
});

const uploadHeaders = (extra: Record<string, string> = {}) => pageHeaders(served, { 'content-type': 'application/octet-stream', ...extra });

/** The uploaded files (not folders, not the owner record) relative to the uploads folder. */
function uploadedFiles(): string[] {
  if (!existsSync(uploads)) return [];
  return diskPicture(uploads)
    .filter((line) => !line.endsWith('/') && !/owner\.json /.test(line))
    .map((line) => line.slice(0, line.lastIndexOf(' ')));
}

async function upload(rawName: string, body: string | Uint8Array<ArrayBuffer>, headers = uploadHeaders()) {
  const res = await fetch(`${served.origin}/api/upload?name=${rawName}`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as { ok: boolean; value?: { name: string; size: number }; error?: { message: string } } };
}

/**
 * Streams `total` bytes without a Content-Length, stopping when the server answers; after
 * `abortAfter` bytes it hangs up, after `stallAfter` it sends nothing more.
 */
function chunkedUpload(total: number, { abortAfter, stallAfter, beforeAbort }: { abortAfter?: number; stallAfter?: number; beforeAbort?: () => Promise<void> } = {}): Promise<{ status: number | null; sent: number; message: string }> {
  return new Promise((resolve) => {
    let sent = 0;
    let finished = false;
    const done = (status: number | null, message: string) => {
      if (finished) return;
      finished = true;
      resolve({ status, sent, message });
    };
    const req = request({ host: '127.0.0.1', port: served.port, method: 'POST', path: '/api/upload?name=big.h5ad', headers: { ...uploadHeaders(), 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += String(d)));
      res.on('end', () => done(res.statusCode ?? null, text));
    });
    req.on('error', (err) => done(null, err.message));
    const chunk = Buffer.alloc(64 * 1024, 7);
    const pump = () => {
      while (!finished && sent < total) {
        if (abortAfter !== undefined && sent >= abortAfter) {
          const abort = () => {
            req.destroy();
            done(null, 'aborted by the client');
          };
          if (beforeAbort) void beforeAbort().then(abort, abort);
          else abort();
          return;
        }
        if (stallAfter !== undefined && sent >= stallAfter) return;
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!finished) req.end();
    };
    pump();
  });
}

describe('upload names are reduced to one safe name inside the server’s own folder', () => {
  const cases: [string, string, string][] = [
    ['..', '..', 'upload.h5ad'],
    ['%2e%2e (decoded once: ..)', '%2e%2e', 'upload.h5ad'],
    ['%252e%252e (decoded once: %2e%2e)', '%252e%252e', '_2e_2e'],
    ['../../evil.h5ad', encodeURIComponent('../../evil.h5ad'), 'evil.h5ad'],
    ['an absolute path', encodeURIComponent('/etc/cron.d/evil.h5ad'), 'evil.h5ad'],
    ['backslashes', encodeURIComponent('..\\..\\win.h5ad'), 'win.h5ad'],
    ['a drive letter', encodeURIComponent('C:\\Windows\\x.h5ad'), 'x.h5ad'],
    ['.', '.', 'upload.h5ad'],
    ['an empty name', '', 'upload.h5ad'],
    ['a hidden file', '.bashrc', 'bashrc'],
    ['an encoded NUL', 'a%00b.h5ad', 'a_b.h5ad'],
    ['newlines and quotes', encodeURIComponent('a\r\n"b".h5ad'), 'a_b_.h5ad'],
    ['a name ending in .partial', 'x.h5ad.partial', 'x.h5ad.partial'],
    ['a 300-character name', `${'a'.repeat(300)}.h5ad`, `${'a'.repeat(115)}.h5ad`],
  ];
  for (const [what, query, expected] of cases) {
    it(`stores ${what} as ${expected.length > 40 ? `${expected.slice(0, 12)}… (${expected.length} characters)` : expected}`, async () => {
      const outside = datasetPicture(root).filter((line) => !line.startsWith('home/storage/uploads/'));
      const before = new Set(uploadedFiles());
      const res = await upload(query, 'hdf5 bytes');
      expect(res.status).toBe(200);
      expect(res.body.value).toMatchObject({ name: expected, size: 10 });
      const added = uploadedFiles().filter((f) => !before.has(f));
      expect(added).toHaveLength(1);
      expect(added[0]).toMatch(/^session-[0-9a-z]+-[0-9a-f]{12}\/[0-9a-f-]{36}\/[^/]+$/);
      expect(added[0]!.split('/')[2]).toBe(expected);
      expect(datasetPicture(root).filter((line) => !line.startsWith('home/storage/uploads/'))).toEqual(outside);
    });
  }
  it('never leaves a .partial file next to the uploads folder (the old `..` escape)', () => {
    expect(readdirSync(join(home, 'storage')).sort()).toEqual(['uploads']);
  });
  it('shows what the uploads take on stderr', () => {
    expect(served.stderr()).toMatch(/Uploads waiting for import: [\d.]+ (B|KiB) of 1\.5 MiB allowed, in .*storage\/uploads \(removed when this server stops\)\./);
  });
});

describe('upload size limits', () => {
  it('refuses a declared Content-Length above the per-file limit (413) without writing', async () => {
    const before = uploadedFiles();
    const res = await upload('big.h5ad', new Uint8Array(PER_FILE + 1));
    expect(res.status).toBe(413);
    expect(res.body.error!.message).toBe('big.h5ad is larger than the upload limit of 1.0 MiB.');
    expect(uploadedFiles()).toEqual(before);
  });
  it('stops a chunked upload at the per-file limit (413) and removes its partial file', async () => {
    const before = uploadedFiles();
    const res = await chunkedUpload(64 * 1024 * 1024);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.message)).toEqual({ ok: false, error: { code: 'usage', message: 'big.h5ad is larger than the upload limit of 1.0 MiB.' } });
    // The server stopped reading long before the 64 MiB were sent.
    expect(res.sent).toBeLessThan(16 * 1024 * 1024);
    expect(uploadedFiles()).toEqual(before);
  });
  it('removes the partial file of an upload the browser abandons half-way', async () => {
    const before = uploadedFiles();
    // Abort only once the server has started writing the file, so the test sees the server
    // remove it (on a busy machine the server may not have opened it when the client gives up).
    const partialAppeared = () => expect.poll(() => uploadedFiles().filter((f) => !before.includes(f)).some((f) => f.endsWith('/big.h5ad.partial')), { timeout: 10_000 }).toBe(true);
    const res = await chunkedUpload(PER_FILE / 2, { abortAfter: 256 * 1024, beforeAbort: partialAppeared });
    expect(res.status).toBeNull();
    await expect.poll(() => uploadedFiles(), { timeout: 10_000 }).toEqual(before);
  });
  it('refuses an upload that would pass the total limit of all uploads (413), keeping the earlier ones', async () => {
    const first = await upload('first.h5ad', new Uint8Array(PER_FILE - 1000).fill(1));
    expect(first.status).toBe(200);
    const before = uploadedFiles();
    const second = await upload('second.h5ad', new Uint8Array(TOTAL - PER_FILE + 1000).fill(2));
    expect(second.status).toBe(413);
    expect(second.body.error!.message).toBe('second.h5ad does not fit: uploads waiting for import already take 1023 KiB of the 1.5 MiB allowed.');
    expect(uploadedFiles()).toEqual(before);
    // The same total, chunked.
    const chunked = await chunkedUpload(TOTAL - PER_FILE + 64 * 1024);
    expect(chunked.status).toBe(413);
    expect(uploadedFiles()).toEqual(before);
  });
  it('refuses sizes it cannot read as a size (exit 2)', async () => {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'cellar.mjs'), 'serve', '--home', home, '--max-upload', '1e9'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('--max-upload (or CELLAR_MAX_UPLOAD) must be a size such as 512M or 8G, not 1e9.');
  });
});

describe('uploads nobody can use any more are removed', () => {
  it('removes the server’s own uploads when it stops', async () => {
    expect(uploadedFiles().length).toBeGreaterThan(0);
    expect(await served.stop()).toBe(0);
    expect(readdirSync(uploads)).toEqual([]);
  });

  it('removes at start-up what a crashed server (SIGKILL mid-upload) and older layouts left, and keeps a live server’s', async () => {
    // A server killed outright while receiving a file.
    served = await startServe(home, [], LIMITS);
    const [session] = readdirSync(uploads);
    const owner = JSON.parse(readFileSync(join(uploads, session!, 'owner.json'), 'utf8')) as { pid: number };
    const inFlight = chunkedUpload(PER_FILE, { stallAfter: 256 * 1024 });
    await expect.poll(() => diskPicture(uploads).some((l) => l.includes('.partial ')), { timeout: 5000 }).toBe(true);
    process.kill(owner.pid, 'SIGKILL');
    await inFlight;
    await served.stop();
    expect(diskPicture(uploads).filter((l) => l.includes('.partial '))).toHaveLength(1);
    // An upload folder of the older layout (no owner), two hours old; a recent one; a live server's.
    mkdirSync(join(uploads, 'old-layout', 'x'), { recursive: true });
    writeFileSync(join(uploads, 'old-layout', 'x', 'a.h5ad'), 'old');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(uploads, 'old-layout'), twoHoursAgo, twoHoursAgo);
    mkdirSync(join(uploads, 'recent-unowned'));
    writeFileSync(join(uploads, 'recent-unowned', 'b.h5ad'), 'recent');
    mkdirSync(join(uploads, 'session-live'));
    writeFileSync(join(uploads, 'session-live', 'owner.json'), JSON.stringify({ pid: process.pid, host: hostname() }));
    writeFileSync(join(uploads, 'session-live', 'c.h5ad'), 'live');

    served = await startServe(home, [], LIMITS);
    await expect.poll(() => served.stderr(), { timeout: 5000 }).toContain('Uploads waiting for import');
    expect(served.stderr()).toMatch(/^Removed [\d.]+ KiB of uploads left by a server that is no longer running\.$/m);
    const left = readdirSync(uploads).sort();
    expect(left.filter((n) => !n.startsWith('session-') || n === 'session-live')).toEqual(['recent-unowned', 'session-live']);
    expect(left.filter((n) => n.startsWith('session-') && n !== 'session-live')).toHaveLength(1);
    expect(left).not.toContain(session);
    expect(readFileSync(join(uploads, 'session-live', 'c.h5ad'), 'utf8')).toBe('live');
    expect(served.stderr()).toMatch(/Uploads waiting for import: 10 B of 1\.5 MiB allowed/);
  });
});
