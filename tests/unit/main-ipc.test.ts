import { describe, expect, it, vi } from 'vitest';
import { isTrustedSender, registerHandlers, type Handlers, type InvokeEvent, type Validators } from '../../src/main/ipc/handle';
import { isAllowedNavigation, isAllowedExternalUrl, developmentContentSecurityPolicy, HARDENED_WEB_PREFERENCES, CONTENT_SECURITY_POLICY } from '../../src/main/shell/security';
import { CellarError } from '../../src/shared/errors';
import { CHANNELS } from '../../src/shared/contract';
import { createService } from '../../src/main/service/handlers';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

vi.mock('electron', () => ({ ipcMain: { handle: vi.fn() } }));

function fakeIpc() {
  const listeners = new Map<string, (event: InvokeEvent, payload: unknown) => Promise<unknown>>();
  return { listeners, handle: (ch: string, fn: (event: InvokeEvent, payload: unknown) => Promise<unknown>) => void listeners.set(ch, fn) };
}

const service = createService({ home: mkdtempSync(join(tmpdir(), 'cellar-ipc-')), mode: 'desktop', version: '0.1.0', files: new Map() });
const handlers: Handlers = {
  ...service.handlers,
  'app:info': () => ({ name: 'Cellar', version: '0.1.0', home: '/h', homeNote: null, mode: 'desktop' }),
  'file:inspect': ({ fileToken }) => {
    throw new CellarError('not_found', `No file for ${fileToken}.`);
  },
};
const validators: Validators = service.validators;

describe('typed IPC handlers', () => {
  it('registers every channel of the contract', () => {
    const ipc = fakeIpc();
    registerHandlers(ipc, handlers, validators, 'app://cellar/index.html');
    expect([...ipc.listeners.keys()].sort()).toEqual([...CHANNELS].sort());
  });
  it('wraps results in an ok envelope for our own window', async () => {
    const ipc = fakeIpc();
    registerHandlers(ipc, handlers, validators, 'app://cellar/index.html');
    const result = await ipc.listeners.get('app:info')!({ senderFrame: { url: 'app://cellar/index.html' } }, undefined);
    expect(result).toEqual({ ok: true, value: { name: 'Cellar', version: '0.1.0', home: '/h', homeNote: null, mode: 'desktop' } });
  });
  it('refuses messages from other origins', async () => {
    const ipc = fakeIpc();
    registerHandlers(ipc, handlers, validators, 'http://localhost:5173/');
    const result = (await ipc.listeners.get('app:info')!({ senderFrame: { url: 'https://evil.example/' } }, undefined)) as { ok: boolean; error: { code: string } };
    expect(result.ok).toBe(false);
    expect(result.error.code).toBe('usage');
    expect(isTrustedSender({ senderFrame: null }, 'app://cellar/index.html')).toBe(false);
    // Any file:// page, another app:// host, or a look-alike host are not our window.
    expect(isTrustedSender({ senderFrame: { url: 'file:///tmp/evil.html' } }, 'app://cellar/index.html')).toBe(false);
    expect(isTrustedSender({ senderFrame: { url: 'app://other/index.html' } }, 'app://cellar/index.html')).toBe(false);
    expect(isTrustedSender({ senderFrame: { url: 'app://cellar.evil/index.html' } }, 'app://cellar/index.html')).toBe(false);
    expect(isTrustedSender({ senderFrame: { url: 'app://cellar/#/store' } }, 'app://cellar/index.html')).toBe(true);
    // Where the page comes from file://, only the renderer's own index.html is trusted.
    expect(isTrustedSender({ senderFrame: { url: 'file:///opt/Cellar/out/renderer/index.html#/store' } }, 'file:///opt/Cellar/out/renderer/index.html')).toBe(true);
    expect(isTrustedSender({ senderFrame: { url: 'file:///home/me/Downloads/evil.html' } }, 'file:///opt/Cellar/out/renderer/index.html')).toBe(false);
  });
  it('turns validation failures and thrown CellarErrors into error envelopes', async () => {
    const ipc = fakeIpc();
    registerHandlers(ipc, handlers, validators, 'app://cellar/index.html');
    const sender = { senderFrame: { url: 'app://cellar/index.html' } };
    expect(await ipc.listeners.get('file:inspect')!(sender, { fileToken: 42 })).toEqual({ ok: false, error: { code: 'usage', message: 'file:inspect: "fileToken" must be a string.' } });
    expect(await ipc.listeners.get('import:start')!(sender, { fileTokens: ['a'], collectionKey: 'c', path: '/etc/passwd' })).toEqual({ ok: false, error: { code: 'usage', message: 'import:start: unexpected field "path".' } });
    expect(await ipc.listeners.get('file:inspect')!(sender, { fileToken: 't1' })).toEqual({ ok: false, error: { code: 'not_found', message: 'No file for t1.' } });
  });
});

describe('links that leave the app', () => {
  it('open in the browser only for the documentation sites, over https', () => {
    expect(isAllowedExternalUrl('https://anndata.readthedocs.io/en/latest/')).toBe(true);
    expect(isAllowedExternalUrl('https://scanpy.readthedocs.io/')).toBe(true);
    for (const url of ['http://anndata.readthedocs.io/', 'https://anndata.readthedocs.io.evil.example/', 'https://evil.example/', 'https://user:pw@anndata.readthedocs.io/', 'https://anndata.readthedocs.io:8443/', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url']) {
      expect(isAllowedExternalUrl(url), url).toBe(false);
    }
  });
});

describe('window hardening', () => {
  it('isolates and sandboxes the renderer', () => {
    expect(HARDENED_WEB_PREFERENCES).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    for (const directive of ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "form-action 'none'", "frame-ancestors 'none'", "base-uri 'none'"]) expect(CONTENT_SECURITY_POLICY).toContain(directive);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/ws:|wss:|\*/);
    // Only a development server (never packaged) gets its socket and inline preamble.
    const dev = developmentContentSecurityPolicy('http://localhost:5173');
    expect(dev).toContain("connect-src 'self' ws://localhost:5173");
    expect(dev).toContain("script-src 'self' 'unsafe-inline'");
  });
  it('allows navigation only within the app page', () => {
    expect(isAllowedNavigation('app://cellar/index.html#/store', 'app://cellar/index.html')).toBe(true);
    expect(isAllowedNavigation('app://evil/index.html', 'app://cellar/index.html')).toBe(false);
    expect(isAllowedNavigation('file:///etc/passwd', 'app://cellar/index.html')).toBe(false);
    expect(isAllowedNavigation('http://localhost:5173/#/x', 'http://localhost:5173/')).toBe(true);
    expect(isAllowedNavigation('https://example.com/', 'http://localhost:5173/')).toBe(false);
    expect(isAllowedNavigation('not a url', 'http://localhost:5173/')).toBe(false);
  });
});
