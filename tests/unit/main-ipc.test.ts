import { describe, expect, it, vi } from 'vitest';
import { isTrustedSender, registerHandlers, type Handlers, type InvokeEvent, type Validators } from '../../src/main/ipc/handle';
import { isAllowedNavigation, HARDENED_WEB_PREFERENCES, CONTENT_SECURITY_POLICY } from '../../src/main/security';
import { CellarError } from '../../src/shared/errors';
import { CHANNELS } from '../../src/shared/contract';

vi.mock('electron', () => ({ ipcMain: { handle: vi.fn() } }));

function fakeIpc() {
  const listeners = new Map<string, (event: InvokeEvent, payload: unknown) => Promise<unknown>>();
  return { listeners, handle: (ch: string, fn: (event: InvokeEvent, payload: unknown) => Promise<unknown>) => void listeners.set(ch, fn) };
}

const handlers: Handlers = {
  'app:info': () => ({ name: 'Cellar', version: '0.1.0', home: '/h', mode: 'desktop' }),
  'file:inspect': ({ fileToken }) => {
    throw new CellarError('not_found', `No file for ${fileToken}.`);
  },
  'library:list': () => ({ collections: [], artifacts: [], stores: [] }),
};
const validators: Validators = {
  'app:info': () => undefined,
  'file:inspect': (p) => {
    if (typeof (p as { fileToken?: unknown })?.fileToken !== 'string') throw new CellarError('usage', 'file:inspect needs a fileToken.');
    return p as { fileToken: string };
  },
  'library:list': () => undefined,
};

describe('typed IPC handlers', () => {
  it('registers every channel of the contract', () => {
    const ipc = fakeIpc();
    registerHandlers(ipc, handlers, validators, ['file://']);
    expect([...ipc.listeners.keys()].sort()).toEqual([...CHANNELS].sort());
  });
  it('wraps results in an ok envelope for our own window', async () => {
    const ipc = fakeIpc();
    registerHandlers(ipc, handlers, validators, ['file://']);
    const result = await ipc.listeners.get('app:info')!({ senderFrame: { url: 'file:///app/out/renderer/index.html' } }, undefined);
    expect(result).toEqual({ ok: true, value: { name: 'Cellar', version: '0.1.0', home: '/h', mode: 'desktop' } });
  });
  it('refuses messages from other origins', async () => {
    const ipc = fakeIpc();
    registerHandlers(ipc, handlers, validators, ['http://localhost:5173']);
    const result = (await ipc.listeners.get('app:info')!({ senderFrame: { url: 'https://evil.example/' } }, undefined)) as { ok: boolean; error: { code: string } };
    expect(result.ok).toBe(false);
    expect(result.error.code).toBe('usage');
    expect(isTrustedSender({ senderFrame: null }, ['file://'])).toBe(false);
  });
  it('turns validation failures and thrown CellarErrors into error envelopes', async () => {
    const ipc = fakeIpc();
    registerHandlers(ipc, handlers, validators, ['file://']);
    const sender = { senderFrame: { url: 'file:///x/index.html' } };
    expect(await ipc.listeners.get('file:inspect')!(sender, { fileToken: 42 })).toEqual({ ok: false, error: { code: 'usage', message: 'file:inspect needs a fileToken.' } });
    expect(await ipc.listeners.get('file:inspect')!(sender, { fileToken: 't1' })).toEqual({ ok: false, error: { code: 'not_found', message: 'No file for t1.' } });
  });
});

describe('window hardening', () => {
  it('isolates and sandboxes the renderer', () => {
    expect(HARDENED_WEB_PREFERENCES).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
  });
  it('allows navigation only within the app page', () => {
    expect(isAllowedNavigation('file:///app/index.html', 'file:///app/index.html')).toBe(true);
    expect(isAllowedNavigation('file:///etc/passwd', 'file:///app/index.html')).toBe(false);
    expect(isAllowedNavigation('http://localhost:5173/#/x', 'http://localhost:5173/')).toBe(true);
    expect(isAllowedNavigation('https://example.com/', 'http://localhost:5173/')).toBe(false);
    expect(isAllowedNavigation('not a url', 'http://localhost:5173/')).toBe(false);
  });
});
