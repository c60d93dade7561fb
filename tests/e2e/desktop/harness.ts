// Boots the built desktop app the way Electron would, without Electron's binary:
// - a child Node process plays the main process: `electron` resolves to a stand-in
//   (standin/electron-main.mjs) and the app's package.json "main" (out/main/index.js) loads;
// - each BrowserWindow is a page in real Chromium (playwright-core), sized as asked;
// - the window's preload runs as Electron runs a sandboxed preload: a classic script, before
//   the page's own scripts, whose `require` offers only `electron` (contextBridge,
//   ipcRenderer, webUtils); what it exposes with contextBridge is what the page sees;
// - ipcRenderer.invoke reaches the app's ipcMain handlers with the sender frame's real URL,
//   webContents.send reaches the preload's listeners, in order;
// - dialogs answer from queues the test fills; files "from the OS" (drops, argv, open-file)
//   carry real paths.
// Not covered (only a real Electron binary shows them): Chromium's process sandbox and
// isolated worlds, native dialogs and menus, the GPU, asar reading, the Electron-ABI addons.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../helpers';

const STANDIN = join(import.meta.dirname, 'standin');

export interface BootOptions {
  /** Folder holding the app's package.json (the repository, or a packaged app's resources/app.asar). */
  appRoot: string;
  packaged?: boolean;
  /** Extra command-line arguments, as the OS passes them (a double-clicked file). */
  argv?: string[];
  /** Environment of the main process (HOME, XDG_* for an isolated user). */
  env: NodeJS.ProcessEnv;
  /** Before `ready`: what the OS delivers early (macOS open-file). */
  beforeReady?: (app: DesktopApp) => void;
}

interface WindowRecord {
  id: number;
  options: { width?: number; height?: number; minWidth?: number; minHeight?: number; title?: string; show: boolean; webPreferences: Record<string, unknown> };
  page: Page | null;
  delivering: Promise<unknown>;
  destroyed: boolean;
  /** True while the app itself loads a URL: other navigations go through will-navigate. */
  loading: boolean;
}

type ChildMessage = { type: string; [key: string]: unknown };

export class DesktopApp {
  readonly windows = new Map<number, WindowRecord>();
  /** Everything the app asked of the OS: dialogs, external links, errors. */
  readonly log: ChildMessage[] = [];
  readonly errors: string[] = [];
  readonly pageErrors: string[] = [];
  private openAnswers: (string[] | null)[] = [];
  private saveAnswers: (string | null)[] = [];
  private nextAnswer = 1;
  private answers = new Map<number, (value: unknown) => void>();
  private nextCall = 1;
  private calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private context: BrowserContext | null = null;
  private windowWaiters: ((w: WindowRecord) => void)[] = [];
  /** Page loads the page itself started (reloads, links): Electron reports each as did-start-loading. */
  pageLoadsStarted = 0;
  /** Custom schemes the app handles (protocol.handle), each served from a loopback port. */
  private schemes = new Map<string, Promise<{ server: Server; base: string }>>();
  readonly exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    private readonly browser: Browser,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.on('message', (m: ChildMessage) => void this.onMessage(m));
  }

  /** The next open dialog answers with these files (null: the user cancels). */
  answerOpenDialog(paths: string[] | null): void {
    this.openAnswers.push(paths);
  }

  answerSaveDialog(path: string | null): void {
    this.saveAnswers.push(path);
  }

  answerMessageBox(buttonIndex: number): void {
    this.child.send({ type: 'dialog:answer-message-box', value: buttonIndex });
  }

  send(message: ChildMessage): void {
    this.child.send(message);
  }

  /** Asks the main process something and waits for its answer. */
  ask<T>(message: ChildMessage): Promise<T> {
    const answerId = this.nextAnswer++;
    return new Promise<T>((resolve) => {
      this.answers.set(answerId, resolve as (v: unknown) => void);
      this.child.send({ ...message, answerId });
    });
  }

  /** The first window that has a page, once it has loaded. */
  async firstWindow(timeoutMs = 60_000): Promise<WindowRecord & { page: Page }> {
    const ready = [...this.windows.values()].find((w) => w.page && !w.destroyed);
    if (ready) return ready as WindowRecord & { page: Page };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No window loaded within ${timeoutMs} ms. Errors: ${this.errors.join('\n')}`)), timeoutMs);
      this.windowWaiters.push((w) => {
        clearTimeout(timer);
        resolve(w as WindowRecord & { page: Page });
      });
    });
  }

  /**
   * Drops files from the OS onto an element: the page gets File objects whose paths only
   * webUtils.getPathForFile knows (as with a real drag from a file manager).
   */
  async dropFiles(page: Page, selector: string, paths: string[]): Promise<void> {
    const files = paths.map((p) => ({ path: p, name: basename(p), bytes: readFileSync(p).subarray(0, 64).toString('base64') }));
    await page.locator(selector).first().evaluate((target, list) => {
      const transfer = new DataTransfer();
      const registry = (window as unknown as { __standinOsFiles: WeakMap<File, string> }).__standinOsFiles;
      for (const f of list) {
        const file = new File([Uint8Array.from(atob(f.bytes), (c) => c.charCodeAt(0))], f.name, { type: '' });
        registry.set(file, f.path);
        transfer.items.add(file);
      }
      for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
    }, files);
  }

  /** The user closes the window (the app may refuse, e.g. while a job runs). */
  requestClose(windowId: number): void {
    this.child.send({ type: 'window:close-request', id: windowId });
  }

  async quit(timeoutMs = 20_000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.connected) this.child.send({ type: 'app:quit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    await this.context?.close().catch(() => undefined);
    return code;
  }

  private async onMessage(m: ChildMessage): Promise<void> {
    try {
      switch (m.type) {
        case 'protocol:handled':
          this.schemes.set(m.scheme as string, this.serveScheme(m.scheme as string));
          break;
        case 'window:create': {
          const record: WindowRecord = { id: m.id as number, options: m.options as WindowRecord['options'], page: null, delivering: Promise.resolve(), destroyed: false, loading: false };
          this.windows.set(record.id, record);
          break;
        }
        case 'window:load':
          this.reply(m.reqId as number, await this.load(m.id as number, m.url as string));
          break;
        case 'window:reload': {
          const w = this.windows.get(m.id as number);
          await w?.page?.reload();
          if (w?.page) this.child.send({ type: 'window:event', id: w.id, event: 'did-finish-load' });
          break;
        }
        case 'window:send': {
          const w = this.windows.get(m.id as number);
          if (!w?.page) break;
          const page = w.page;
          const payload = encodeForPage([m.channel, m.args]);
          // In order, as Electron delivers them; a page that is navigating drops them.
          w.delivering = w.delivering.then(() => page.evaluate((p) => (window as unknown as { __standinDeliver?: (p: unknown) => void }).__standinDeliver?.(p), payload).catch(() => undefined));
          break;
        }
        case 'window:destroyed': {
          const w = this.windows.get(m.id as number);
          if (w) {
            w.destroyed = true;
            await w.page?.close().catch(() => undefined);
          }
          break;
        }
        case 'ipc:result': {
          const call = this.calls.get(m.callId as number);
          this.calls.delete(m.callId as number);
          if (m.ok) call?.resolve(m.value);
          else call?.reject(new Error(m.error as string));
          break;
        }
        case 'answer': {
          const resolve = this.answers.get(m.answerId as number);
          this.answers.delete(m.answerId as number);
          resolve?.(m.value);
          break;
        }
        case 'dialog:open': {
          this.log.push(m);
          const paths = this.openAnswers.shift() ?? null;
          this.reply(m.reqId as number, paths ? { canceled: false, filePaths: paths } : { canceled: true, filePaths: [] });
          break;
        }
        case 'dialog:save': {
          this.log.push(m);
          const path = this.saveAnswers.shift() ?? null;
          this.reply(m.reqId as number, path ? { canceled: false, filePath: path } : { canceled: true, filePath: '' });
          break;
        }
        case 'standin:error':
          this.errors.push(m.message as string);
          break;
        default:
          this.log.push(m);
      }
    } catch (err) {
      this.errors.push(`harness: ${(err as Error).stack ?? err}`);
    }
  }

  private reply(reqId: number, value: unknown): void {
    if (this.child.connected) this.child.send({ type: 'reply', reqId, value });
  }

  private async load(id: number, url: string): Promise<{ ok: boolean; error?: string }> {
    const w = this.windows.get(id);
    if (!w) return { ok: false, error: 'no such window' };
    try {
      await Promise.all(this.schemes.values());
      if (!w.page) w.page = await this.newPage(w);
      w.loading = true;
      await w.page.goto(await this.toPageUrl(url), { waitUntil: 'load' });
      w.loading = false;
      this.child.send({ type: 'window:event', id, event: 'dom-ready' });
      this.child.send({ type: 'window:event', id, event: 'ready-to-show' });
      this.child.send({ type: 'window:event', id, event: 'did-finish-load' });
      for (const waiter of this.windowWaiters.splice(0)) waiter(w);
      return { ok: true };
    } catch (err) {
      w.loading = false;
      return { ok: false, error: (err as Error).message };
    }
  }

  /** A loopback HTTP server whose every answer comes from the app's handler for `scheme`. */
  private async serveScheme(scheme: string): Promise<{ server: Server; base: string }> {
    const server = createServer((req, res) => {
      const appUrl = this.toAppUrlWith(scheme, `http://${req.headers.host}${req.url}`, `http://${req.headers.host}/`);
      void this.ask<{ status: number; headers: Record<string, string>; body: Uint8Array }>({ type: 'protocol:request', url: appUrl, method: req.method ?? 'GET', headers: {} }).then(
        (r) => {
          res.writeHead(r.status, r.headers);
          res.end(Buffer.from(r.body));
        },
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.exited.then(() => server.close(), () => undefined);
    return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
  }

  /** app://cellar/x → http://127.0.0.1:PORT/cellar/x (the page's real address in Chromium). */
  private async toPageUrl(url: string): Promise<string> {
    const scheme = url.split(':', 1)[0]!;
    const served = this.schemes.get(scheme);
    if (!served) return url;
    const { base } = await served;
    return base + url.slice(scheme.length + 3);
  }

  private toAppUrlWith(scheme: string, pageUrl: string, base: string): string {
    return pageUrl.startsWith(base) ? `${scheme}://${pageUrl.slice(base.length)}` : pageUrl;
  }

  /** The URL the app would see for a page address (its own scheme where the page came from one). */
  async toAppUrl(pageUrl: string): Promise<string> {
    for (const [scheme, served] of this.schemes) {
      const { base } = await served;
      if (pageUrl.startsWith(base)) return this.toAppUrlWith(scheme, pageUrl, base);
    }
    return pageUrl;
  }

  private async newPage(w: WindowRecord): Promise<Page> {
    this.context ??= await this.browser.newContext({ viewport: null });
    const page = await this.context.newPage();
    await page.setViewportSize({ width: w.options.width ?? 800, height: w.options.height ?? 600 });
    page.on('pageerror', (err) => this.pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') this.pageErrors.push(`console: ${msg.text()}`);
    });
    // A page opening another window: the app's window-open handler decides.
    page.on('popup', (popup) => {
      void this.ask<string>({ type: 'window:open', id: w.id, url: popup.url() }).then((action) => {
        this.log.push({ type: 'window-open', url: popup.url(), action });
        if (action !== 'allow') void popup.close();
      });
    });
    page.on('load', () => {
      if (!w.loading) this.child.send({ type: 'window:event', id: w.id, event: 'did-finish-load' });
    });
    // Navigations the app did not start ask its will-navigate handlers first.
    await page.route('**/*', async (route) => {
      const request = route.request();
      if (!request.isNavigationRequest() || request.frame() !== page.mainFrame() || w.loading) return route.continue();
      const target = await this.toAppUrl(request.url());
      const allowed = await this.ask<boolean>({ type: 'window:will-navigate', id: w.id, url: target });
      this.log.push({ type: 'navigation', url: target, allowed });
      if (!allowed) return route.abort('aborted');
      // A load the page started (a reload, a link): Electron reports it as did-start-loading.
      this.pageLoadsStarted++;
      this.child.send({ type: 'window:event', id: w.id, event: 'did-start-loading' });
      return route.continue();
    });
    // The preload's ipcRenderer reaches the main process through this one binding.
    await page.exposeBinding('__standinIpc', async (source, message: { kind: 'invoke' | 'send' | 'window-open'; channel: string; args: unknown; url?: string }) => {
      if (message.kind === 'window-open') {
        const url = await this.toAppUrl(message.url!);
        const action = await this.ask<string>({ type: 'window:open', id: w.id, url });
        this.log.push({ type: 'window-open', url, action });
        return action;
      }
      const args = decodeFromPage(message.args) as unknown[];
      const frameUrl = await this.toAppUrl(source.frame.url());
      if (message.kind === 'send') {
        this.child.send({ type: 'ipc:send', windowId: w.id, frameUrl, channel: message.channel, args });
        return null;
      }
      const callId = this.nextCall++;
      const value = await new Promise((resolve, reject) => {
        this.calls.set(callId, { resolve, reject });
        this.child.send({ type: 'ipc:invoke', callId, windowId: w.id, frameUrl, channel: message.channel, args });
      });
      return encodeForPage(value);
    });
    const preload = w.options.webPreferences.preload;
    if (typeof preload === 'string') await page.addInitScript({ content: sandboxedPreloadScript(readFileSync(preload, 'utf8'), w.options.webPreferences) });
    return page;
  }
}

/** A user of its own: HOME and the XDG folders under `root`, no CELLAR_HOME, so the default home is used. */
export function isolatedUserEnv(root: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: root, XDG_DATA_HOME: join(root, 'data'), XDG_CONFIG_HOME: join(root, 'config'), XDG_CACHE_HOME: join(root, 'cache'), ...extra };
  delete env.CELLAR_HOME;
  delete env.CELLAR_SQLITE_BINDING;
  return env;
}

/** Starts the app's main process and a Chromium for its windows; resolves once `ready` was emitted. */
export async function bootDesktopApp(options: BootOptions): Promise<DesktopApp> {
  // Electron grants file:// pages access to other local files (module scripts included); plain Chromium needs a flag.
  const browser = await launchBrowser(['--allow-file-access-from-files']);
  const child = fork(join(STANDIN, 'boot.mjs'), options.argv ?? [], {
    cwd: options.appRoot,
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...options.env, CELLAR_STANDIN_APP_ROOT: options.appRoot, CELLAR_STANDIN_PACKAGED: options.packaged ? '1' : '0' },
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += String(d)));
  child.stderr!.on('data', (d) => (output += String(d)));
  const app = new DesktopApp(child, browser);
  app.exited.then(() => browser.close().catch(() => undefined), () => undefined);
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: ChildMessage) => {
      if (m.type === 'app:loaded') {
        child.off('message', onMessage);
        resolve();
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`The main process exited with ${code} while loading: ${app.errors.join('\n')}\n${output}`)));
  });
  options.beforeReady?.(app);
  app.send({ type: 'app:become-ready' });
  Object.defineProperty(app, 'output', { get: () => output });
  return app;
}

// ── values crossing into the page: JSON with bytes as base64 ──

const BYTES = '$standinBytes';

function encodeForPage(value: unknown): unknown {
  if (value instanceof Uint8Array) return { [BYTES]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (Array.isArray(value)) return value.map(encodeForPage);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeForPage(v)]));
  return value;
}

function decodeFromPage(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeFromPage);
  if (value && typeof value === 'object') {
    if (BYTES in value) return new Uint8Array(Buffer.from((value as Record<string, string>)[BYTES]!, 'base64'));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeFromPage(v)]));
  }
  return value;
}

/**
 * The page-side half: the preload runs as a classic CommonJS script with Electron's sandboxed
 * `require` (only `electron` here; anything else throws as it would for a module the sandbox
 * does not offer). An ES-module preload is a syntax error here, as in Electron. contextBridge
 * hands the page a frozen copy of what the preload exposes.
 */
function sandboxedPreloadScript(preloadCode: string, prefs: Record<string, unknown>): string {
  const runtime = `(${pageRuntime.toString()})(${JSON.stringify({ BYTES, sandbox: prefs.sandbox === true, contextIsolation: prefs.contextIsolation === true })})`;
  return `${runtime};\n(function () {\n  const { require, module, exports, process } = window.__standinPreloadScope();\n  (function (exports, require, module, __filename, __dirname, process) {\n${preloadCode}\n  })(exports, require, module, 'preload.cjs', '.', process);\n})();`;
}

/** Runs in the page before its scripts. Kept self-contained: it is serialized with toString(). */
function pageRuntime(config: { BYTES: string; sandbox: boolean; contextIsolation: boolean }): void {
  const w = window as unknown as Record<string, unknown>;
  // Looked up at each call: the binding is installed by the test process, not by the page.
  const ipc = (m: { kind: string; channel: string; args: unknown }) => (w.__standinIpc as (m: unknown) => Promise<unknown>)(m);
  const toBase64 = (bytes: Uint8Array) => {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const encode = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return { [config.BYTES]: toBase64(v) };
    if (v instanceof ArrayBuffer) return { [config.BYTES]: toBase64(new Uint8Array(v)) };
    if (Array.isArray(v)) return v.map(encode);
    if (typeof v === 'function') throw new Error('An object could not be cloned.');
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
    return v;
  };
  const decode = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(decode);
    if (v && typeof v === 'object') {
      if (config.BYTES in v) return Uint8Array.from(atob((v as Record<string, string>)[config.BYTES]!), (c) => c.charCodeAt(0));
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
    }
    return v;
  };
  // window.open asks the app's window-open handler first (Electron asks before making a window).
  const openWindow = window.open.bind(window);
  window.open = (url?: string | URL, target?: string, features?: string) => {
    const absolute = new URL(String(url ?? ''), location.href).href;
    void (w.__standinIpc as (m: unknown) => Promise<string>)({ kind: 'window-open', url: absolute }).then((action) => {
      if (action === 'allow') openWindow(absolute, target, features);
    });
    return null;
  };
  const osFiles = new WeakMap<File, string>();
  w.__standinOsFiles = osFiles;
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  const ipcRenderer = {
    invoke: async (channel: string, ...args: unknown[]) => decode(await ipc({ kind: 'invoke', channel, args: encode(args) })),
    send: (channel: string, ...args: unknown[]) => void ipc({ kind: 'send', channel, args: encode(args) }),
    on(channel: string, listener: (...args: unknown[]) => void) {
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
      return ipcRenderer;
    },
    once(channel: string, listener: (...args: unknown[]) => void) {
      const wrapped = (...args: unknown[]) => {
        ipcRenderer.removeListener(channel, wrapped);
        listener(...args);
      };
      return ipcRenderer.on(channel, wrapped);
    },
    removeListener(channel: string, listener: (...args: unknown[]) => void) {
      listeners.get(channel)?.delete(listener);
      return ipcRenderer;
    },
    removeAllListeners(channel?: string) {
      if (channel) listeners.delete(channel);
      else listeners.clear();
      return ipcRenderer;
    },
  };
  w.__standinDeliver = (payload: unknown) => {
    const [channel, args] = decode(payload) as [string, unknown[]];
    const event = { sender: ipcRenderer, senderId: 0, ports: [] };
    for (const l of [...(listeners.get(channel) ?? [])]) l(event, ...args);
  };
  // contextBridge: the page gets a deep, frozen copy; functions stay callable, values are copied.
  const bridgeCopy = (v: unknown): unknown => {
    if (typeof v === 'function') return (...args: unknown[]) => (v as (...a: unknown[]) => unknown)(...args);
    if (v instanceof Uint8Array || v instanceof ArrayBuffer || v instanceof Blob) return v;
    if (Array.isArray(v)) return Object.freeze(v.map(bridgeCopy));
    if (v && typeof v === 'object') return Object.freeze(Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bridgeCopy(x)])));
    return v;
  };
  const electron = Object.freeze({
    ipcRenderer,
    contextBridge: {
      exposeInMainWorld(key: string, api: unknown) {
        if (!config.contextIsolation) throw new Error('contextBridge API can only be used when contextIsolation is enabled');
        if (key in w) throw new Error(`Cannot bind an API on top of an existing property on the window object: ${key}`);
        Object.defineProperty(w, key, { value: bridgeCopy(api), enumerable: true, configurable: false, writable: false });
      },
    },
    webUtils: {
      getPathForFile(file: File) {
        if (!(file instanceof File)) throw new TypeError('getPathForFile expects a File');
        return osFiles.get(file) ?? '';
      },
    },
  });
  w.__standinPreloadScope = () => {
    const module = { exports: {} as Record<string, unknown> };
    const require = (name: string) => {
      if (name === 'electron' || name === 'electron/renderer') return electron;
      throw new Error(`module not found: ${name} (a sandboxed preload can only require electron and a few polyfilled modules)`);
    };
    if (!config.sandbox) throw new Error('This stand-in only runs sandboxed preloads; the window asked for sandbox: false.');
    return { require, module, exports: module.exports, process: { platform: navigator.platform, env: {}, versions: {}, type: 'renderer', sandboxed: true } };
  };
}
