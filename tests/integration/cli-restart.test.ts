// `cellar` is one process: it never restarts itself, so SIGINT, SIGTERM and Ctrl+C reach the
// process doing the work, and `cellar serve` stops cleanly (exit 0) on each of them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { CELLAR_BIN, REPO_ROOT } from './helpers/cellar';

const homes: string[] = [];
const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function freshHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'cellar-signals-'));
  homes.push(home);
  return home;
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** Starts `cellar serve` and resolves once it prints its address. */
async function startServe(): Promise<{ child: ChildProcess; exited: Promise<Exit> }> {
  const child = spawn(process.execPath, [CELLAR_BIN, 'serve', '--home', freshHome(), '--port', '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  const exited = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('cellar serve printed no address')), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('Cellar is serving at')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { child, exited };
}

/** Child processes of `pid` (worker threads are not processes). */
function childProcesses(pid: number): string {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
}

describe.runIf(process.platform === 'linux')('signals reach the one cellar process', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serve stops cleanly on ${signal} sent right after it prints its address`, async () => {
      const { child, exited } = await startServe();
      // No second process: the one started is the one serving.
      expect(childProcesses(child.pid!)).toBe('');
      child.kill(signal);
      expect(await exited).toEqual({ code: 0, signal: null });
    });
  }

  it('serve stops cleanly on Ctrl+C in a terminal', () => {
    // A pseudo-terminal from Python's pty module: Ctrl+C makes the terminal send SIGINT to its
    // foreground process group, which is the cellar process alone.
    const script = [
      'import os, pty, select, sys, time',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      `    os.execv(sys.argv[1], [sys.argv[1], sys.argv[2], 'serve', '--home', sys.argv[3], '--port', '0'])`,
      "out = b''",
      'deadline = time.time() + 60',
      "while b'serving at' not in out and time.time() < deadline:",
      '    if select.select([fd], [], [], 1)[0]: out += os.read(fd, 4096)',
      "if b'serving at' not in out: sys.exit('no address printed: %r' % out)",
      "os.write(fd, b'\\x03')",
      // Keep reading so the server never blocks on a full terminal while it stops.
      'while True:',
      '    try:',
      '        if not os.read(fd, 4096): break',
      '    except OSError: break',
      '_, status = os.waitpid(pid, 0)',
      "print('exit', os.WEXITSTATUS(status) if os.WIFEXITED(status) else 'signal %d' % os.WTERMSIG(status))",
    ].join('\n');
    const run = spawnSync('/usr/bin/python3', ['-c', script, process.execPath, CELLAR_BIN, freshHome()], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 90_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('exit 0');
  });
});
