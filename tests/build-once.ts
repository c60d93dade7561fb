// Vitest global setup: the tests run what users run, the built app and CLI (out/), so the
// build is brought up to date once before any test file starts (a no-op when nothing changed).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const OUTPUTS = ['out/main/index.js', 'out/main/cli.js', 'out/main/task-worker.js', 'out/preload/index.cjs', 'out/renderer/index.html'].map((p) => join(ROOT, p));
const INPUTS = ['src', 'electron.vite.config.ts', 'vite.renderer.config.ts', 'package.json'].map((p) => join(ROOT, p));

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newest(join(path, name))), stat.mtimeMs);
}

export function buildIsStale(): boolean {
  if (OUTPUTS.some((p) => !existsSync(p))) return true;
  const built = Math.min(...OUTPUTS.map((p) => statSync(p).mtimeMs));
  return INPUTS.some((p) => existsSync(p) && newest(p) > built);
}

export default function setup(): void {
  if (!buildIsStale()) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`Building the app failed:\n${r.stdout}\n${r.stderr}`);
}
