#!/usr/bin/env node
// `npm start`: always gives the user the app. With Node >= 22.12 it builds the app, makes sure
// better-sqlite3 has a build for Electron's ABI in its own folder (so the Node build that the
// CLI and `npm test` use is never replaced) and runs the desktop app. On an older Node, which
// cannot run Electron's tools, it says so and opens the same app in the browser
// (`cellar serve`) instead of stopping.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildIfStale, ROOT } from './build.mjs';

const require = createRequire(import.meta.url);
const { buildBetterSqliteForElectron } = require('./electron-native.cjs');
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, shell: process.platform === 'win32', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

function canRunElectron(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}

/** Opens a URL in the user's browser; false when there is no way to (no desktop session). */
function openInBrowser(url) {
  if (process.env.CELLAR_NO_BROWSER === '1') return false;
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false;
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
  return true;
}

function startInBrowser() {
  console.error(
    `The desktop app needs Node >= 22.12 to start Electron (this is Node ${process.versions.node}). ` +
      'Opening the same app in your browser instead; install Node 22.12 or newer for the desktop window.',
  );
  const server = spawn(process.execPath, [join(ROOT, 'bin', 'cellar.mjs'), 'serve'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: server.stdout });
  lines.once('line', (line) => {
    console.log(line);
    const url = /^Cellar is serving at (\S+)$/.exec(line)?.[1];
    if (url && !openInBrowser(url)) console.error('Open that address in a browser on this machine. Press Ctrl+C to stop.');
    lines.on('line', (more) => console.log(more));
  });
  // Ctrl+C reaches the server too (same process group); a stop from elsewhere is passed on.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
  server.on('exit', (code, signal) => process.exit(signal ? 0 : (code ?? 1)));
}

function startDesktop() {
  const electronVersion = require('electron/package.json').version;
  const binding = join(ROOT, 'native', `electron-${electronVersion}`, 'better_sqlite3.node');
  if (!existsSync(binding)) {
    console.error(`Building better-sqlite3 for Electron ${electronVersion} (first start only)…`);
    buildBetterSqliteForElectron(electronVersion, binding);
  }
  run('npx', ['electron-vite', 'preview'], { env: { ...process.env, CELLAR_SQLITE_BINDING: binding } });
}

buildIfStale();
if (canRunElectron()) startDesktop();
else startInBrowser();
