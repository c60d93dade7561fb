// Where `cellar serve` may listen: loopback literals only, decided without DNS, unless
// --allow-remote says otherwise (and then it warns).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseByteSize, resolveServeHost } from '../../src/main/serve/host';
import { cellar, pageHeaders, rawRequest, startServe } from './helpers';

let home: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'cellar-host-attack-'));
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

describe('the loopback policy', () => {
  it('accepts localhost (as 127.0.0.1, asking no resolver), 127.0.0.0/8 literals and ::1', () => {
    expect(resolveServeHost('localhost', false)).toEqual({ bind: '127.0.0.1', loopback: true });
    expect(resolveServeHost('LOCALHOST', false)).toEqual({ bind: '127.0.0.1', loopback: true });
    expect(resolveServeHost('127.0.0.1', false)).toEqual({ bind: '127.0.0.1', loopback: true });
    expect(resolveServeHost('127.45.0.9', false)).toEqual({ bind: '127.45.0.9', loopback: true });
    expect(resolveServeHost('::1', false)).toEqual({ bind: '::1', loopback: true });
    expect(resolveServeHost('[::1]', false)).toEqual({ bind: '::1', loopback: true });
    expect(resolveServeHost('0:0:0:0:0:0:0:1', false)).toEqual({ bind: '::1', loopback: true });
  });
  it('refuses names and addresses that only look like loopback', () => {
    for (const host of ['127.0.0.1.evil.example', 'localhost.evil.example', 'evil.example', 'localhost.', '127.1', '0x7f.0.0.1', '2130706433', '0177.0.0.1', '::ffff:127.0.0.1', '0.0.0.0', '::', '8.8.8.8', '', ' ']) {
      expect(() => resolveServeHost(host, false), host).toThrow(/^cellar serve listens on loopback only \(127\.0\.0\.1, ::1 or localhost\), not .*; add --allow-remote to listen on another address\.$/);
    }
  });
  it('binds any host with --allow-remote, marked as not loopback', () => {
    expect(resolveServeHost('0.0.0.0', true)).toEqual({ bind: '0.0.0.0', loopback: false });
    expect(resolveServeHost('127.0.0.1', true)).toEqual({ bind: '127.0.0.1', loopback: true });
  });
  it('reads sizes for the upload limits', () => {
    expect(parseByteSize('1048576')).toBe(1048576);
    expect(parseByteSize('512K')).toBe(512 * 1024);
    expect(parseByteSize('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseByteSize('2GiB')).toBe(2 * 1024 ** 3);
    expect(parseByteSize('8gb')).toBe(8 * 1024 ** 3);
    for (const bad of ['', '0', '-1', '1e9', 'G', '10X', '1 2']) expect(parseByteSize(bad), bad).toBeNull();
  });
});

describe('cellar serve --host', () => {
  for (const host of ['127.0.0.1.evil.example', 'localhost.evil.example', '0.0.0.0', '8.8.8.8', '127.1', '::ffff:127.0.0.1']) {
    it(`refuses --host ${host} (exit 2, nothing served)`, () => {
      const r = cellar(['serve', '--home', home, '--host', host]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')[0]).toBe(`cellar serve listens on loopback only (127.0.0.1, ::1 or localhost), not ${host}; add --allow-remote to listen on another address.`);
    });
  }

  it('serves --host localhost on 127.0.0.1', async () => {
    const served = await startServe(home, ['--host', 'localhost']);
    try {
      expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
      expect(served.stderr()).not.toContain('Warning');
      const res = await fetch(`${served.origin}/api/invoke/app:info`, { method: 'POST', headers: pageHeaders(served), body: '' });
      expect(res.status).toBe(200);
    } finally {
      expect(await served.stop()).toBe(0);
    }
  });

  it('serves another loopback address (127.0.0.2) and answers requests naming it', async () => {
    const served = await startServe(home, ['--host', '127.0.0.2']);
    try {
      expect(served.origin).toBe(`http://127.0.0.2:${served.port}`);
      const res = await fetch(`${served.origin}/api/invoke/library:list`, { method: 'POST', headers: pageHeaders(served), body: '' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { ok: boolean }).ok).toBe(true);
    } finally {
      await served.stop();
    }
  });

  it('listens beyond loopback only with --allow-remote, warns on stderr, and still refuses DNS names in Host', async () => {
    const served = await startServe(home, ['--host', '0.0.0.0', '--allow-remote']);
    try {
      await expect.poll(() => served.stderr()).toContain('Warning: --allow-remote');
      expect(served.stderr()).toContain('Warning: --allow-remote: Cellar listens on 0.0.0.0, so other machines may reach it; the token travels unencrypted over HTTP, and anyone who has it can read and change this home.');
      const ask = (host: string) =>
        rawRequest(served.port, `POST /api/invoke/app:info HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nX-Cellar-Token: ${served.token}\r\nContent-Type: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      expect((await ask(`127.0.0.1:${served.port}`)).status).toBe(200);
      expect((await ask(`192.0.2.10:${served.port}`)).status).toBe(200);
      expect((await ask(`evil.example:${served.port}`)).status).toBe(403);
      expect((await ask(`192.0.2.10.nip.io:${served.port}`)).status).toBe(403);
    } finally {
      await served.stop();
    }
  });
});
