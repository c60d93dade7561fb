// The attack suite's tools: the real `cellar serve` started as users start it, raw HTTP
// for requests fetch() would tidy up, and a picture of the disk to prove nothing changed.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join, relative } from 'node:path';
import { ROOT, startCellarServe } from '../e2e/helpers';

export const CELLAR = join(ROOT, 'bin', 'cellar.mjs');
export const FIXTURE = join(ROOT, 'tests', 'fixtures', 'h5ad', 'compress_gzip.h5ad');

export interface Served {
  url: string;
  /** http://host:port, what the served page sends as its Origin. */
  origin: string;
  port: number;
  token: string;
  child: ChildProcess;
  stderr(): string;
  /** Stops it with SIGTERM; resolves with the exit code, or the signal that ended it. */
  stop(): Promise<number | string | null>;
}

/** Starts `cellar serve --home home ...args` and waits for its first line. */
export async function startServe(home: string, args: string[] = [], env: Record<string, string> = {}): Promise<Served> {
  const { url: address, child, stderr } = await startCellarServe(home, args, { ...process.env, ...env });
  const url = new URL(address);
  return {
    url: address,
    origin: url.origin,
    port: Number(url.port),
    token: url.searchParams.get('token')!,
    child,
    stderr,
    stop: () =>
      new Promise<number | string | null>((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', (code, signal) => {
          clearTimeout(force);
          resolve(code ?? signal);
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Runs the CLI to completion (for commands that must refuse to start, or to set up a home). */
export function cellar(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CELLAR, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What the served page sends with a state-changing request. */
export function pageHeaders(served: Served, extra: Record<string, string> = {}): Record<string, string> {
  return { origin: served.origin, 'sec-fetch-site': 'same-origin', 'x-cellar-token': served.token, 'content-type': 'application/json', ...extra };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends bytes exactly as written (fetch would normalise the path and the headers). */
export function rawRequest(port: number, text: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('connect', () => socket.write(text));
    socket.on('data', (d) => (data += String(d)));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', ...rest] = data.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

/** Every file under `dir` with its size, sorted: equal pictures mean nothing was written. */
export function diskPicture(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const s = statSync(path);
      if (s.isDirectory()) {
        out.push(`${relative(dir, path)}/`);
        walk(path);
      } else out.push(`${relative(dir, path)} ${s.size}`);
    }
  };
  walk(dir);
  return out.sort();
}

/** The registry's WAL and the command log change without any dataset changing. */
export function datasetPicture(dir: string): string[] {
  return diskPicture(dir).filter((line) => !/\.(sqlite|db)(-wal|-shm)? |\.log /.test(line));
}
