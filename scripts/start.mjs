#!/usr/bin/env node
// `npm start`: build the app, make sure better-sqlite3 has a build for Electron's ABI
// in its own folder (so the Node build that `npm test` uses is never replaced), then
// run the desktop app. Needs Node >= 22.12 and, on first start, network access for
// Electron's binary and headers.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, shell: process.platform === 'win32', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`The desktop app needs Node >= 22.12 to start Electron (this is Node ${process.versions.node}). The CLI and the tests work on Node 20.`);
  process.exit(1);
}

run('npx', ['electron-vite', 'build']);

const electronVersion = require('electron/package.json').version;
const bindingDir = join(root, 'native', `electron-${electronVersion}`);
const binding = join(bindingDir, 'better_sqlite3.node');
if (!existsSync(binding)) {
  console.error(`Building better-sqlite3 for Electron ${electronVersion} (first start only)…`);
  const work = join(bindingDir, 'build-src');
  mkdirSync(bindingDir, { recursive: true });
  cpSync(dirname(require.resolve('better-sqlite3/package.json')), work, { recursive: true, filter: (p) => !p.includes(`${join('build', '')}`) });
  // Prebuilt Electron binaries when available, else compile against Electron's headers.
  const prebuilt = spawnSync('npx', ['prebuild-install', '--runtime', 'electron', '--target', electronVersion], { cwd: work, stdio: 'inherit' });
  if (prebuilt.status !== 0) run('npx', ['node-gyp', 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers'], { cwd: work });
  copyFileSync(join(work, 'build', 'Release', 'better_sqlite3.node'), binding);
}

run('npx', ['electron-vite', 'preview'], { env: { ...process.env, CELLAR_SQLITE_BINDING: binding } });
