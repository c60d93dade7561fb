// Runs a Python script with Debian's /usr/bin/python3 (which has anndata 0.8,
// h5py, scipy) and returns its stdout parsed as JSON. The script gets `args`
// as sys.argv[1:]; a failing script throws with its stderr.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';

export function runPythonJson<T = unknown>(script: string, args: string[] = [], timeoutMs = 120_000): T {
  const dir = mkdtempSync(join(tmpdir(), 'cellar-py-'));
  try {
    const scriptPath = join(dir, 'script.py');
    writeFileSync(scriptPath, script);
    const result = spawnSync(PYTHON, [scriptPath, ...args], {
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 256 << 20,
      env: { ...process.env, PYTHONWARNINGS: 'ignore', PYTHONIOENCODING: 'utf-8' },
    });
    if (result.error) throw result.error;
    if (result.status !== 0) {
      throw new Error(`${PYTHON} exited with ${result.status}:\n${result.stderr}`);
    }
    try {
      return JSON.parse(result.stdout) as T;
    } catch {
      throw new Error(`${PYTHON} printed something that is not JSON:\n${result.stdout.slice(0, 2000)}\n${result.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
