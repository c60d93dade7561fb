// On Linux `cellar` restarts itself with glibc malloc settings; the restarted process does the
// work. Signals reach it, its exit is the command's exit, and it never outlives its starter.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { MALLOC_TUNABLES } from '../../src/main/malloc-tuning.mjs';
import { CELLAR_BIN, REPO_ROOT } from './helpers/cellar';

const homes: string[] = [];
const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

/** Starts `cellar serve` and resolves once it prints its URL, with the pid of the process doing the work. */
async function startServe(): Promise<{ starter: ChildProcess; worker: number; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }> {
  const home = mkdtempSync(join(tmpdir(), 'cellar-restart-'));
  homes.push(home);
  const env: NodeJS.ProcessEnv = { ...process.env, CELLAR_MALLOC_TUNING: undefined, CELLAR_MALLOC_TUNED: undefined, GLIBC_TUNABLES: undefined };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const starter = spawn(process.execPath, [CELLAR_BIN, 'serve', '--home', home, '--port', '0'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(starter);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => starter.on('exit', (code, signal) => resolve({ code, signal })));
  const lines = createInterface({ input: starter.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('cellar serve printed no URL')), 60_000);
    lines.on('line', (line) => {
      if (line.startsWith('Cellar is serving at')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const children = readFileSync(`/proc/${starter.pid}/task/${starter.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  expect(children).toHaveLength(1);
  return { starter, worker: children[0], exited };
}

function environOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe.runIf(process.platform === 'linux')('the restarted cellar process', () => {
  it('runs with the malloc tunables and stops, with its starter, on SIGTERM', async () => {
    const { starter, worker, exited } = await startServe();
    const environ = environOf(worker);
    expect(environ).toContain('CELLAR_MALLOC_TUNED=1');
    // glibc splits GLIBC_TUNABLES in place at start, so its first setting is what /proc shows.
    expect(environ.some((v) => v.startsWith('GLIBC_TUNABLES=glibc.malloc.hugetlb=1'))).toBe(true);
    expect(environOf(starter.pid!).some((v) => v.startsWith('GLIBC_TUNABLES='))).toBe(false);
    starter.kill('SIGTERM');
    const end = await exited;
    // serve stops cleanly on SIGTERM: exit 0, relayed by the starter.
    expect(end).toEqual({ code: 0, signal: null });
    expect(await gone(worker, 5_000)).toBe(true);
  });

  it('gets a SIGINT sent to its starter (not from a terminal) and stops cleanly', async () => {
    const { starter, worker, exited } = await startServe();
    starter.kill('SIGINT');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(await gone(worker, 5_000)).toBe(true);
  });

  it('stops cleanly on Ctrl+C in a terminal (the signal reaches it once)', () => {
    const home = mkdtempSync(join(tmpdir(), 'cellar-restart-'));
    homes.push(home);
    // A pseudo-terminal from Python's pty module: Ctrl+C goes to the whole foreground process group.
    const script = [
      'import os, pty, select, sys, time',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      `    os.execv(sys.argv[1], [sys.argv[1], sys.argv[2], 'serve', '--home', sys.argv[3], '--port', '0'])`,
      "out = b''",
      'deadline = time.time() + 60',
      "while b'serving at' not in out and time.time() < deadline:",
      '    if select.select([fd], [], [], 1)[0]: out += os.read(fd, 4096)',
      "os.write(fd, b'\\x03')",
      '_, status = os.waitpid(pid, 0)',
      "print('exit', os.WEXITSTATUS(status) if os.WIFEXITED(status) else 'signal %d' % os.WTERMSIG(status))",
    ].join('\n');
    const run = spawnSync('/usr/bin/python3', ['-c', script, process.execPath, CELLAR_BIN, home], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 90_000 });
    expect(run.stdout.trim()).toBe('exit 0');
  });

  it('stops by itself when its starter is killed outright', async () => {
    const { starter, worker } = await startServe();
    starter.kill('SIGKILL');
    expect(await gone(worker, 5_000)).toBe(true);
  });

  it('is not restarted when the user set malloc tunables or turned the restart off', async () => {
    expect(MALLOC_TUNABLES).toContain('glibc.malloc.hugetlb=1');
    for (const extra of [{ CELLAR_MALLOC_TUNING: '0' }, { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }]) {
      const home = mkdtempSync(join(tmpdir(), 'cellar-restart-'));
      homes.push(home);
      const child = spawn(process.execPath, [CELLAR_BIN, 'serve', '--home', home, '--port', '0'], { cwd: REPO_ROOT, env: { ...process.env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
      started.push(child);
      await new Promise<void>((resolve) => createInterface({ input: child.stdout! }).on('line', (line) => line.startsWith('Cellar is serving at') && resolve()));
      const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
      expect(children, JSON.stringify(extra)).toBe('');
      child.kill('SIGTERM');
    }
  });
});
