// The process that plays Electron's main process: `electron` resolves to the stand-in, then
// the app's built main bundle (the package.json "main" of CELLAR_STANDIN_APP_ROOT) is loaded
// exactly as Electron loads it. `ready` comes when the test process says so, after anything
// the OS would deliver before it (a macOS open-file).
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

register(new URL('./resolve-electron.mjs', import.meta.url), { data: { standin: new URL('./electron-main.mjs', import.meta.url).href } });

const root = process.env.CELLAR_STANDIN_APP_ROOT;
const main = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).main;
const { app } = await import('electron');
process.on('uncaughtException', (err) => process.send({ type: 'standin:error', message: `uncaught: ${err?.stack ?? err}` }));
process.on('unhandledRejection', (err) => process.send({ type: 'standin:error', message: `unhandled rejection: ${err?.stack ?? err}` }));
try {
  await import(pathToFileURL(join(root, main)).href);
  // Another OS's behaviour, once the native addons for this one are loaded (macOS: the app
  // stays without windows, folders under ~/Library).
  if (process.env.CELLAR_STANDIN_PLATFORM) Object.defineProperty(process, 'platform', { value: process.env.CELLAR_STANDIN_PLATFORM });
  process.send({ type: 'app:loaded' });
} catch (err) {
  process.send({ type: 'standin:error', message: `loading ${main}: ${err?.stack ?? err}` });
  process.exit(3);
}
void app;
