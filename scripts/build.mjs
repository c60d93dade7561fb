// Builds the app (main, preload, renderer, CLI, worker entries) when the build is missing or
// older than its sources; a no-op otherwise. Used by `npm start`, and before the tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUTPUTS = ['out/main/index.js', 'out/main/cli.js', 'out/main/task-worker.js', 'out/preload/index.cjs', 'out/renderer/index.html'].map((p) => join(ROOT, p));
const INPUTS = ['src', 'electron.vite.config.ts', 'vite.renderer.config.ts', 'package.json'].map((p) => join(ROOT, p));

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newest(join(path, name))), stat.mtimeMs);
}

export function buildIsStale() {
  if (OUTPUTS.some((p) => !existsSync(p))) return true;
  const built = Math.min(...OUTPUTS.map((p) => statSync(p).mtimeMs));
  return INPUTS.some((p) => existsSync(p) && newest(p) > built);
}

/** Builds if needed; throws with the build's output when it fails. */
export function buildIfStale() {
  if (!buildIsStale()) return false;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`Building the app failed:\n${r.stdout}\n${r.stderr}`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) buildIfStale();
