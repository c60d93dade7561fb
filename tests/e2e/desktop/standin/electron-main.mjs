// A stand-in for the `electron` module as Electron's main process sees it, for booting the
// built app in plain Node (Electron's binary cannot be downloaded here). It keeps Electron's
// shapes and orders of events: `ready` after the module graph loaded, `open-file` before
// `ready`, windows whose pages live in real Chromium, driven by the test process (the
// parent, see ../harness.ts) over the fork's IPC channel with structured-clone messages.
// What it cannot be: Chromium's sandbox, native dialogs, menus, the GPU.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

const parent = process;
if (!parent.send) throw new Error('The electron stand-in runs in a child process forked with an IPC channel.');

const APP_ROOT = process.env.CELLAR_STANDIN_APP_ROOT;
const PACKAGED = process.env.CELLAR_STANDIN_PACKAGED === '1';
if (!APP_ROOT) throw new Error('CELLAR_STANDIN_APP_ROOT names the folder holding the app (its package.json).');
const appPackage = JSON.parse(readFileSync(join(APP_ROOT, 'package.json'), 'utf8'));
if (PACKAGED) process.resourcesPath = dirname(APP_ROOT);

let nextRequest = 1;
const waiting = new Map();
/** Asks the test process and waits for its answer. */
function request(message) {
  const reqId = nextRequest++;
  return new Promise((resolve, reject) => {
    waiting.set(reqId, { resolve, reject });
    parent.send({ ...message, reqId });
  });
}

// ───────────────────────────── app ─────────────────────────────

class App extends EventEmitter {
  #name = appPackage.productName ?? appPackage.name;
  #ready = false;
  #readyWaiters = [];
  #paths = new Map();
  isPackaged = PACKAGED;

  getName() {
    return this.#name;
  }
  setName(name) {
    this.#name = name;
  }
  getVersion() {
    return appPackage.version;
  }
  getAppPath() {
    return APP_ROOT;
  }
  getPath(name) {
    if (this.#paths.has(name)) return this.#paths.get(name);
    const home = homedir();
    const appData = process.platform === 'darwin' ? join(home, 'Library', 'Application Support') : process.platform === 'win32' ? process.env.APPDATA : process.env.XDG_CONFIG_HOME || join(home, '.config');
    const known = {
      home,
      appData,
      userData: join(appData, this.#name),
      sessionData: this.#paths.get('userData') ?? join(appData, this.#name),
      temp: tmpdir(),
      exe: process.execPath,
      desktop: join(home, 'Desktop'),
      documents: join(home, 'Documents'),
      downloads: join(home, 'Downloads'),
      logs: join(appData, this.#name, 'logs'),
    };
    if (!(name in known)) throw new Error(`Failed to get '${name}' path`);
    return known[name];
  }
  setPath(name, path) {
    if (!isAbsolute(path)) throw new Error(`Path must be absolute: ${path}`);
    this.#paths.set(name, path);
  }
  isReady() {
    return this.#ready;
  }
  whenReady() {
    return this.#ready ? Promise.resolve() : new Promise((resolve) => this.#readyWaiters.push(resolve));
  }
  _becomeReady() {
    this.#ready = true;
    this.emit('will-finish-launching');
    this.emit('ready', {}, {});
    for (const resolve of this.#readyWaiters.splice(0)) resolve();
    parent.send({ type: 'app:ready' });
  }
  requestSingleInstanceLock() {
    return process.env.CELLAR_STANDIN_SECOND_INSTANCE !== '1';
  }
  hasSingleInstanceLock() {
    return this.requestSingleInstanceLock();
  }
  releaseSingleInstanceLock() {}
  focus() {}
  setAppUserModelId() {}
  addRecentDocument() {}
  quit() {
    const event = eventObject();
    this.emit('before-quit', event);
    if (event.defaultPrevented) return;
    for (const w of [...windows.values()]) {
      w._requestClose();
      if (!w.isDestroyed()) return; // a window refused to close
    }
    this._quitNow();
  }
  exit(code = 0) {
    parent.send({ type: 'app:exit', code });
    setImmediate(() => process.exit(code));
  }
  _quitNow() {
    const event = eventObject();
    this.emit('will-quit', event);
    if (event.defaultPrevented) return;
    this.emit('quit', event, 0);
    this.exit(0);
  }
}

function eventObject(extra = {}) {
  const event = {
    defaultPrevented: false,
    preventDefault() {
      event.defaultPrevented = true;
    },
    ...extra,
  };
  return event;
}

export const app = new App();

// ───────────────────────────── windows ─────────────────────────────

const windows = new Map();
let nextWindowId = 1;

class WebContents extends EventEmitter {
  #url = '';
  #openHandler = null;
  constructor(window) {
    super();
    this.window = window;
    this.id = window.id;
    this.session = session.defaultSession;
  }
  send(channel, ...args) {
    if (this.window.isDestroyed()) throw new Error('Object has been destroyed');
    parent.send({ type: 'window:send', id: this.id, channel, args });
  }
  async loadURL(url) {
    this.#url = url;
    this.emit('did-start-loading');
    const answer = await request({ type: 'window:load', id: this.id, url });
    if (!answer.ok) {
      this.emit('did-fail-load', eventObject(), -6, answer.error, url, true);
      throw new Error(`ERR_FAILED (-2) loading '${url}': ${answer.error}`);
    }
  }
  getURL() {
    return this.#url;
  }
  setWindowOpenHandler(handler) {
    this.#openHandler = handler;
  }
  /** The page asked for window.open: the handler decides (null handler = allow, as in Electron). */
  _windowOpen(url) {
    const decision = this.#openHandler ? this.#openHandler({ url, frameName: '', features: '', disposition: 'new-window', referrer: { url: '', policy: 'default' } }) : { action: 'allow' };
    return decision?.action ?? 'allow';
  }
  _willNavigate(url) {
    const event = eventObject({ url });
    this.emit('will-navigate', event, url);
    return !event.defaultPrevented;
  }
  isDestroyed() {
    return this.window.isDestroyed();
  }
  openDevTools() {}
  reload() {
    this.emit('did-start-loading');
    parent.send({ type: 'window:reload', id: this.id });
  }
}

export class BrowserWindow extends EventEmitter {
  #destroyed = false;
  #visible = false;
  #minimized = false;
  constructor(options = {}) {
    super();
    this.id = nextWindowId++;
    this.options = options;
    const prefs = options.webPreferences ?? {};
    if (prefs.preload !== undefined && !isAbsolute(prefs.preload)) throw new Error('The preload script path must be absolute.');
    this.webContents = new WebContents(this);
    app.emit('web-contents-created', eventObject(), this.webContents);
    windows.set(this.id, this);
    this.#visible = options.show !== false;
    parent.send({ type: 'window:create', id: this.id, options: { width: options.width, height: options.height, minWidth: options.minWidth, minHeight: options.minHeight, title: options.title, show: options.show !== false, webPreferences: prefs } });
  }
  static getAllWindows() {
    return [...windows.values()];
  }
  static fromWebContents(contents) {
    return contents?.window ?? null;
  }
  static getFocusedWindow() {
    return [...windows.values()].find((w) => w.#visible) ?? null;
  }
  loadURL(url) {
    return this.webContents.loadURL(url);
  }
  loadFile(path) {
    return this.webContents.loadURL(`file://${path}`);
  }
  show() {
    this.#visible = true;
    this.emit('show');
    parent.send({ type: 'window:show', id: this.id });
  }
  hide() {
    this.#visible = false;
  }
  isVisible() {
    return this.#visible;
  }
  focus() {
    this.emit('focus');
  }
  isMinimized() {
    return this.#minimized;
  }
  minimize() {
    this.#minimized = true;
  }
  restore() {
    this.#minimized = false;
  }
  isDestroyed() {
    return this.#destroyed;
  }
  setTitle(title) {
    this.options.title = title;
  }
  close() {
    this._requestClose();
  }
  /** The user (or app.quit) asks the window to close: 'close' may be prevented. */
  _requestClose() {
    if (this.#destroyed) return;
    const event = eventObject();
    this.emit('close', event);
    if (!event.defaultPrevented) this.destroy();
  }
  destroy() {
    if (this.#destroyed) return;
    this.#destroyed = true;
    windows.delete(this.id);
    parent.send({ type: 'window:destroyed', id: this.id });
    this.emit('closed');
    if (windows.size === 0) setImmediate(() => app.emit('window-all-closed'));
  }
}

// ───────────────────────────── ipcMain ─────────────────────────────

class IpcMain extends EventEmitter {
  #handlers = new Map();
  handle(channel, listener) {
    if (this.#handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.#handlers.set(channel, listener);
  }
  handleOnce(channel, listener) {
    this.handle(channel, (...args) => {
      this.#handlers.delete(channel);
      return listener(...args);
    });
  }
  removeHandler(channel) {
    this.#handlers.delete(channel);
  }
  async _invoke(windowId, frameUrl, channel, args) {
    const handler = this.#handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    const window = windows.get(windowId);
    const event = { sender: window?.webContents, senderFrame: { url: frameUrl, origin: originOf(frameUrl) }, processId: 1, frameId: 1 };
    return handler(event, ...args);
  }
}

function originOf(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'file:' ? 'file://' : u.origin;
  } catch {
    return 'null';
  }
}

export const ipcMain = new IpcMain();

// ───────────────────────────── dialogs, shell, session ─────────────────────────────

export const dialog = {
  showOpenDialog: async (windowOrOptions, maybeOptions) => request({ type: 'dialog:open', options: maybeOptions ?? windowOrOptions }),
  showSaveDialog: async (windowOrOptions, maybeOptions) => request({ type: 'dialog:save', options: maybeOptions ?? windowOrOptions }),
  // Synchronous in Electron: answered from what the test set beforehand (default: the first button).
  showMessageBoxSync: (windowOrOptions, maybeOptions) => {
    const options = maybeOptions ?? windowOrOptions;
    messageBoxes.push(options.message);
    parent.send({ type: 'dialog:message', message: options.message });
    return messageBoxAnswers.length ? messageBoxAnswers.shift() : 0;
  },
  showMessageBox: async (windowOrOptions, maybeOptions) => ({ response: dialog.showMessageBoxSync(windowOrOptions, maybeOptions), checkboxChecked: false }),
  showErrorBox: (title, content) => parent.send({ type: 'dialog:error', title, content }),
};
const messageBoxes = [];
const messageBoxAnswers = [];

export const shell = {
  openExternal: async (url) => parent.send({ type: 'shell:open-external', url }),
  openPath: async (path) => {
    parent.send({ type: 'shell:open-path', path });
    return '';
  },
  showItemInFolder: (path) => parent.send({ type: 'shell:show-item', path }),
};

class Session {
  permissionRequestHandler = null;
  permissionCheckHandler = null;
  headersReceived = null;
  webRequest = {
    onHeadersReceived: (listener) => {
      this.headersReceived = listener;
    },
  };
  setPermissionRequestHandler(handler) {
    this.permissionRequestHandler = handler;
  }
  setPermissionCheckHandler(handler) {
    this.permissionCheckHandler = handler;
  }
}

export const session = { defaultSession: new Session() };
// protocol: schemes declared privileged before 'ready', handlers after it. The test process
// serves each handled scheme's pages from a loopback address and asks the handler here for
// every request, so the app's own handler answers exactly what the page loads.
const protocolHandlers = new Map();
/** CELLAR_STANDIN_WITHOUT=protocol plays a runtime without custom schemes (the app must fall back to file://). */
export const protocol = process.env.CELLAR_STANDIN_WITHOUT === 'protocol' ? undefined : {
  registerSchemesAsPrivileged(schemes) {
    if (app.isReady()) throw new Error('protocol.registerSchemesAsPrivileged should be called before app is ready');
    parent.send({ type: 'protocol:privileged', schemes: schemes.map((s) => ({ scheme: s.scheme, privileges: { ...s.privileges } })) });
  },
  handle(scheme, handler) {
    if (!app.isReady()) throw new Error('protocol.handle must be called after app is ready');
    if (protocolHandlers.has(scheme)) throw new Error(`Protocol ${scheme} is already handled`);
    protocolHandlers.set(scheme, handler);
    parent.send({ type: 'protocol:handled', scheme });
  },
  unhandle(scheme) {
    protocolHandlers.delete(scheme);
  },
  isProtocolHandled(scheme) {
    return protocolHandlers.has(scheme);
  },
};

async function answerProtocolRequest(message) {
  const handler = protocolHandlers.get(new URL(message.url).protocol.slice(0, -1));
  if (!handler) return { status: 404, headers: {}, body: new Uint8Array() };
  const response = await handler(new Request(message.url, { method: message.method, headers: message.headers }));
  const body = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, headers: Object.fromEntries(response.headers.entries()), body };
}

export const Menu = { setApplicationMenu() {}, buildFromTemplate: () => ({}) };
export const nativeTheme = Object.assign(new EventEmitter(), { shouldUseDarkColors: false, themeSource: 'system' });

// ───────────────────────────── the test process's side ─────────────────────────────

/** Runs the page's permission request and headers through the session's handlers, as Chromium would. */
async function askSession(message) {
  const s = session.defaultSession;
  if (message.what === 'permission') {
    if (!s.permissionRequestHandler) return true;
    return new Promise((resolve) => s.permissionRequestHandler(null, message.permission, resolve, {}));
  }
  if (message.what === 'headers') {
    if (!s.headersReceived) return message.headers;
    return new Promise((resolve) => s.headersReceived({ url: message.url, responseHeaders: message.headers }, (r) => resolve(r.responseHeaders ?? message.headers)));
  }
  return null;
}

parent.on('message', async (message) => {
  try {
    switch (message.type) {
      case 'reply': {
        const w = waiting.get(message.reqId);
        waiting.delete(message.reqId);
        if (message.ok === false && message.error && message.rejects) w?.reject(new Error(message.error));
        else w?.resolve(message.value);
        break;
      }
      case 'ipc:invoke': {
        try {
          const value = await ipcMain._invoke(message.windowId, message.frameUrl, message.channel, message.args);
          parent.send({ type: 'ipc:result', callId: message.callId, ok: true, value });
        } catch (err) {
          parent.send({ type: 'ipc:result', callId: message.callId, ok: false, error: `Error invoking remote method '${message.channel}': ${err?.message ?? err}` });
        }
        break;
      }
      case 'ipc:invoke-as': {
        // A message as if sent from another frame (a test of the sender check).
        let value;
        try {
          value = await ipcMain._invoke([...windows.keys()][0], message.frameUrl, message.channel, message.args);
        } catch (err) {
          value = { thrown: String(err?.message ?? err) };
        }
        parent.send({ type: 'answer', answerId: message.answerId, value });
        break;
      }
      case 'ipc:send':
        ipcMain.emit(message.channel, { sender: windows.get(message.windowId)?.webContents, senderFrame: { url: message.frameUrl } }, ...message.args);
        break;
      case 'window:event': {
        const w = windows.get(message.id);
        if (!w) break;
        if (message.event === 'ready-to-show') w.emit('ready-to-show');
        else w.webContents.emit(message.event, eventObject());
        break;
      }
      case 'window:will-navigate': {
        const w = windows.get(message.id);
        parent.send({ type: 'answer', answerId: message.answerId, value: w ? w.webContents._willNavigate(message.url) : false });
        break;
      }
      case 'window:guard': {
        // will-redirect, will-frame-navigate, will-attach-webview: may the page do it?
        const w = windows.get(message.id);
        const event = eventObject({ url: message.url, isMainFrame: message.event !== 'will-frame-navigate' });
        w?.webContents.emit(message.event, event, message.url);
        parent.send({ type: 'answer', answerId: message.answerId, value: w ? !event.defaultPrevented : false });
        break;
      }
      case 'window:open': {
        const w = windows.get(message.id);
        parent.send({ type: 'answer', answerId: message.answerId, value: w ? w.webContents._windowOpen(message.url) : 'deny' });
        break;
      }
      case 'window:close-request':
        windows.get(message.id)?._requestClose();
        break;
      case 'protocol:request':
        parent.send({ type: 'answer', answerId: message.answerId, value: await answerProtocolRequest(message) });
        break;
      case 'session':
        parent.send({ type: 'answer', answerId: message.answerId, value: await askSession(message) });
        break;
      case 'app:open-file': {
        const event = eventObject();
        app.emit('open-file', event, message.path);
        break;
      }
      case 'app:second-instance':
        app.emit('second-instance', eventObject(), message.argv, message.cwd, {});
        break;
      case 'app:activate':
        app.emit('activate', eventObject(), windows.size > 0);
        break;
      case 'app:quit':
        app.quit();
        break;
      case 'dialog:answer-message-box':
        messageBoxAnswers.push(message.value);
        break;
      case 'app:get-path':
        parent.send({ type: 'answer', answerId: message.answerId, value: app.getPath(message.name) });
        break;
      case 'app:become-ready':
        app._becomeReady();
        break;
    }
  } catch (err) {
    parent.send({ type: 'standin:error', message: String(err?.stack ?? err) });
  }
});
