// Electron shell: lifecycle, the window, file association. Thin on purpose; the
// engine lives in src/main/engine and never imports electron.
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { h5adPathsFromArgv } from './open-files';
import { CONTENT_SECURITY_POLICY, HARDENED_WEB_PREFERENCES, isAllowedNavigation } from './security';
import { registerHandlers } from './ipc/handle';
import { createService } from './service/handlers';
import { resolveHome } from './home';
import type { Events } from '../shared/contract';

app.setName('Cellar');
// Worker threads load engine modules from the app folder (see engine/paths.ts).
process.env.CELLAR_APP_ROOT ??= app.getAppPath();
const pendingFiles: string[] = [];
/** Files the OS gave us, addressed by opaque tokens so the renderer never sends paths. */
const fileTokens = new Map<string, string>();
let mainWindow: BrowserWindow | null = null;

// macOS delivers file opens before 'ready': queue them.
app.on('open-file', (event, path) => {
  event.preventDefault();
  queueFile(path);
});

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', (_event, argv, cwd) => {
    for (const p of h5adPathsFromArgv(argv.slice(1), cwd)) queueFile(p);
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });
  for (const p of h5adPathsFromArgv(process.argv.slice(1), process.cwd())) pendingFiles.push(p);
  void app.whenReady().then(start);
}

function queueFile(path: string): void {
  if (mainWindow) emit('file:opened', registerFile(path));
  else pendingFiles.push(path);
}

function registerFile(path: string): Events['file:opened'] {
  const fileToken = randomUUID();
  fileTokens.set(fileToken, path);
  return { fileToken, name: path.split(/[\\/]/).pop() ?? path };
}

function emit<E extends keyof Events>(event: E, payload: Events[E]): void {
  mainWindow?.webContents.send(`event:${event}`, payload);
}

function appUrl(): string {
  return process.env.ELECTRON_RENDERER_URL ?? `file://${join(__dirname, '../renderer/index.html')}`;
}

async function start(): Promise<void> {
  const home = resolveHome(undefined);
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });

  const url = appUrl();
  const service = createService({
    home,
    mode: 'desktop',
    version: app.getVersion(),
    files: fileTokens,
    emit: (event, payload) => emit(event, payload),
    chooseFiles: async () => {
      const r = await dialog.showOpenDialog({ properties: ['openFile', 'multiSelections'], filters: [{ name: 'AnnData', extensions: ['h5ad'] }] });
      return r.canceled ? [] : r.filePaths;
    },
    chooseSavePath: async (defaultName) => {
      const r = await dialog.showSaveDialog({ defaultPath: defaultName });
      return r.canceled || !r.filePath ? null : r.filePath;
    },
  });
  app.on('will-quit', () => service.close());
  // Drops: the preload turns a dropped File into a path with webUtils and hands it here.
  ipcMain.handle('drop:register', (event, path: unknown) => {
    if (!event.senderFrame || !isAllowedNavigation(event.senderFrame.url, url) || typeof path !== 'string' || !/\.h5ad$/i.test(path)) return null;
    return registerFile(path);
  });
  registerHandlers(ipcMain, service.handlers, service.validators, [url.startsWith('file:') ? 'file://' : new URL(url).origin]);

  mainWindow = new BrowserWindow({
    width: 1280,
    height: 820,
    title: 'Cellar',
    show: false,
    webPreferences: { ...HARDENED_WEB_PREFERENCES, preload: join(__dirname, '../preload/index.cjs') },
  });
  mainWindow.webContents.on('will-navigate', (event, target) => {
    if (!isAllowedNavigation(target, url)) event.preventDefault();
  });
  mainWindow.webContents.setWindowOpenHandler(({ url: target }) => {
    if (/^https:\/\//.test(target)) void shell.openExternal(target);
    return { action: 'deny' };
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  // Quitting while a job runs asks first.
  mainWindow.on('close', (event) => {
    if (service.jobs.running().length && dialog.showMessageBoxSync({ type: 'question', buttons: ['Keep working', 'Quit anyway'], defaultId: 0, message: 'A job is still running. Quit and cancel it?' }) === 0) event.preventDefault();
  });
  mainWindow.webContents.once('did-finish-load', () => {
    for (const p of pendingFiles.splice(0)) emit('file:opened', registerFile(p));
  });
  await mainWindow.loadURL(url);
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
