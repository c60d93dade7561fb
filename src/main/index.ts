// Electron shell: lifecycle, the window, file association. Thin on purpose; the
// engine lives in src/main/engine and never imports electron.
import * as electron from 'electron';
import { app, BrowserWindow, dialog, ipcMain, session, shell, type WebContents } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PRELOAD_FILE, RENDERER_DIR } from './shell/app-files';
import { APP_INDEX_URL, APP_SCHEME, appProtocolResponse } from './shell/app-protocol';
import { h5adPathsFromArgv } from './shell/open-files';
import { CONTENT_SECURITY_POLICY, developmentContentSecurityPolicy, HARDENED_WEB_PREFERENCES, isAllowedExternalUrl, isAllowedNavigation } from './shell/security';
import { registerHandlers, type HandlersOf } from './ipc/handle';
import { requestValidators } from './ipc/validate';
import { createService, type Service } from './service/handlers';
import { registerFileToken } from './service/file-tokens';
import { resolveHomeWithNote } from './shell/home';
import type { Events, OpenedFile, PreloadChannels } from '../shared/contract';
import { DATASET_EXTENSIONS, isDatasetFileName } from '../shared/dataset-files';

app.setName('Cellar');
// The page's own origin, app://cellar (see app-protocol.ts); declared before 'ready'. Every
// Electron this app supports has protocol.handle; a runtime without it (a minimal stand-in
// for tests) gets the same page from file:// instead.
const protocol = (electron as Partial<typeof electron>).protocol;
const servesAppProtocol = typeof protocol?.handle === 'function' && typeof protocol.registerSchemesAsPrivileged === 'function';
if (servesAppProtocol) protocol!.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
// The packaged app carries better-sqlite3 built for Electron's ABI in its resources; `npm start`
// passes its own build the same way. The Node build in node_modules stays for the CLI and tests.
if (app.isPackaged && !process.env.CELLAR_SQLITE_BINDING) {
  const packaged = join(process.resourcesPath, 'native', 'better_sqlite3.node');
  if (existsSync(packaged)) process.env.CELLAR_SQLITE_BINDING = packaged;
}

/** Files the OS asked us to open that the page has not taken yet (cold start, or before it listens). */
const pendingFiles: string[] = [];
/** Files the OS gave us, addressed by opaque tokens so the renderer never sends paths. */
const fileTokens = new Map<string, string>();
let mainWindow: BrowserWindow | null = null;
/** True once the page has asked for pending files: from then on, opened files are pushed as events. */
let pageListening = false;
let service: Service | null = null;

// macOS delivers file opens before 'ready': queue them.
app.on('open-file', (event, path) => {
  event.preventDefault();
  openFile(path);
});

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', (_event, argv, cwd) => {
    for (const p of h5adPathsFromArgv(argv.slice(1), cwd)) openFile(p);
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    } else if (app.isReady()) {
      createWindow();
    }
  });
  pendingFiles.push(...h5adPathsFromArgv(process.argv.slice(1), process.cwd()));
  void app.whenReady().then(start);
}

function openFile(path: string): void {
  if (mainWindow && pageListening) emit('file:opened', registerFile(path));
  else pendingFiles.push(path);
}

function registerFile(path: string): OpenedFile {
  return registerFileToken(fileTokens, path);
}

function emit<E extends keyof Events>(event: E, payload: Events[E]): void {
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(`event:${event}`, payload);
}

/** The built page; a development server's address only when running unpackaged (`electron-vite dev`). */
function appUrl(): string {
  if (!app.isPackaged && process.env.ELECTRON_RENDERER_URL) return process.env.ELECTRON_RENDERER_URL;
  return servesAppProtocol ? APP_INDEX_URL : pathToFileURL(join(RENDERER_DIR, 'index.html')).href;
}

async function start(): Promise<void> {
  const { home, note } = resolveHomeWithNote(undefined);
  if (servesAppProtocol) protocol!.handle(APP_SCHEME, (request) => appProtocolResponse(request, RENDERER_DIR));
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  const url = appUrl();
  // The app:// handler sends the page's CSP itself; a development server or file:// gets it added here.
  if (!url.startsWith(APP_INDEX_URL)) {
    const policy = url.startsWith('http') ? developmentContentSecurityPolicy(new URL(url).origin) : CONTENT_SECURITY_POLICY;
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [policy] } });
    });
  }

  service = createService({
    home,
    homeNote: note,
    mode: 'desktop',
    version: app.getVersion(),
    files: fileTokens,
    emit: (event, payload) => emit(event, payload),
    chooseFiles: async (kind) => {
      // A Matrix Market folder is chosen as a folder; the datasets that are one file are filtered by suffix.
      const options: Electron.OpenDialogOptions =
        kind === 'folder'
          ? { properties: ['openDirectory'] }
          : kind === 'table'
            ? { properties: ['openFile'], filters: [{ name: 'Table (CSV or TSV)', extensions: ['csv', 'tsv', 'txt', 'tab'] }] }
            : { properties: ['openFile', 'multiSelections'], filters: [{ name: 'Single-cell datasets', extensions: [...DATASET_EXTENSIONS] }] };
      const r = await dialog.showOpenDialog(options);
      return r.canceled ? [] : r.filePaths;
    },
    chooseSavePath: async (defaultName) => {
      const r = await dialog.showSaveDialog({ defaultPath: defaultName });
      return r.canceled || !r.filePath ? null : r.filePath;
    },
    takePendingFiles: () => {
      pageListening = true;
      return pendingFiles.splice(0).map(registerFile);
    },
  });
  app.on('will-quit', () => service?.close());
  // Drops: the preload turns a dropped File into a path with webUtils and hands it here.
  const dropHandlers: HandlersOf<PreloadChannels> = { 'drop:register': ({ path }) => (isDatasetFileName(path) ? registerFile(path) : null) };
  registerHandlers<PreloadChannels>(ipcMain, dropHandlers, requestValidators(['drop:register']), url);
  registerHandlers(ipcMain, service.handlers, service.validators, url);
  createWindow();
}

function createWindow(): void {
  const url = appUrl();
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    // Every screen is laid out to work down to this size (tables scroll sideways inside their cards).
    minWidth: 1024,
    minHeight: 700,
    title: 'Cellar',
    show: false,
    webPreferences: { ...HARDENED_WEB_PREFERENCES, preload: PRELOAD_FILE },
  });
  mainWindow = window;
  pageListening = false;
  // A reload starts a page that does not listen yet: queue files until it asks for them.
  window.webContents.on('did-start-loading', () => {
    if (mainWindow === window) pageListening = false;
  });
  window.once('ready-to-show', () => window.show());
  // Quitting while a job runs asks first.
  window.on('close', (event) => {
    if (service?.jobs.running().length && dialog.showMessageBoxSync({ type: 'question', buttons: ['Keep working', 'Quit anyway'], defaultId: 0, message: 'A job is still running. Quit and cancel it?' }) === 0) event.preventDefault();
  });
  window.on('closed', () => {
    if (mainWindow === window) {
      mainWindow = null;
      pageListening = false;
    }
  });
  void window.loadURL(url);
}

/**
 * Every web contents the app creates stays on the app's page: no navigation, redirect or
 * frame navigation elsewhere, no <webview>, no new windows; links to the documentation sites
 * of EXTERNAL_HOSTS open in the user's browser, anything else is refused.
 */
function guardContents(contents: WebContents): void {
  const url = appUrl();
  const refuseForeign = (event: { preventDefault(): void }, target: string) => {
    if (!isAllowedNavigation(target, url)) event.preventDefault();
  };
  // The event carries the URL; the second argument is its older form, for runtimes that only pass that.
  contents.on('will-navigate', (event, target) => refuseForeign(event, event.url ?? target));
  contents.on('will-redirect', (event, target) => refuseForeign(event, event.url ?? target));
  contents.on('will-frame-navigate', (event) => refuseForeign(event, event.url));
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url: target }) => {
    if (isAllowedExternalUrl(target)) void shell.openExternal(target);
    return { action: 'deny' };
  });
}

app.on('web-contents-created', (_event, contents) => guardContents(contents));

// macOS keeps the app running with no window; clicking the dock icon opens one again.
app.on('activate', () => {
  if (app.isReady() && service && BrowserWindow.getAllWindows().length === 0) createWindow();
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
