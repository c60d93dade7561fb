// Runs the real `cellar` command (bin/cellar.mjs) as a child process against a
// temporary home, the way a user or a script would, and hands back what it printed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const CELLAR_BIN = join(REPO_ROOT, 'bin', 'cellar.mjs');

export interface CellarResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is JSON, else undefined. */
  json: unknown;
}

export interface CellarOptions {
  /** Passed as --home (omitted when null). */
  home: string | null;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

function parseJson(stdout: string): unknown {
  const text = stdout.trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function argv(args: string[], options: CellarOptions): string[] {
  return [CELLAR_BIN, ...args, ...(options.home === null ? [] : ['--home', options.home])];
}

function childEnv(options: CellarOptions): NodeJS.ProcessEnv {
  // A CELLAR_HOME from the developer's shell must never leak into a test.
  const env: NodeJS.ProcessEnv = { ...process.env, CELLAR_HOME: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return env;
}

/** Runs `cellar ARGS --home HOME` and waits for it. */
export function cellar(args: string[], options: CellarOptions): CellarResult {
  const result = spawnSync(process.execPath, argv(args, options), {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 256 << 20,
    env: childEnv(options),
  });
  if (result.error) throw result.error;
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr, json: parseJson(result.stdout) };
}

/** The same, without blocking: several commands can run side by side. */
export function cellarAsync(args: string[], options: CellarOptions): Promise<CellarResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, argv(args, options), { cwd: REPO_ROOT, env: childEnv(options), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, json: parseJson(stdout) });
    });
  });
}

/** A fresh temporary folder; remove it with `rmSync(dir, {recursive: true, force: true})`. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cellar-${prefix}-`));
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Asserts the SPEC §5 shape of a user error without --json: returns the first stderr line. */
export function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

/** Every file under `dir` (relative path → size and content), to prove nothing changed. */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out[relative(dir, p)] = `${statSync(p).size}:${readFileSync(p).toString('base64')}`;
    }
  };
  walk(dir);
  return out;
}
