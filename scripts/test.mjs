#!/usr/bin/env node
// `npm test`: make sure the reference tools the tests compare against are present
// (installing them with apt-get when we are root, as in CI), then type-check, lint
// and run every suite. A missing prerequisite fails at once with the command to run;
// nothing is silently skipped.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const DEBIAN_PACKAGES = ['python3-anndata', 'python3-h5py', 'python3-scipy', 'python3-sklearn', 'python3-statsmodels', 'python3-pynndescent', 'python3-leidenalg', 'python3-igraph', 'chromium', 'xvfb'];
const PYTHON = '/usr/bin/python3';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

function pythonHasModules() {
  if (!existsSync(PYTHON)) return false;
  const r = spawnSync(PYTHON, ['-c', 'import anndata, h5py, scipy, sklearn, statsmodels, pynndescent, leidenalg, igraph'], { stdio: 'ignore' });
  return r.status === 0;
}

function prerequisitesPresent() {
  return pythonHasModules() && existsSync('/usr/bin/chromium');
}

if (!prerequisitesPresent()) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  const command = `apt-get update && apt-get install -y ${DEBIAN_PACKAGES.join(' ')}`;
  if (isRoot && hasApt) {
    console.error(`Installing test prerequisites: ${command}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (run('apt-get', ['update', '-q'], { env }) !== 0 || run('apt-get', ['install', '-y', '-q', ...DEBIAN_PACKAGES], { env }) !== 0 || !prerequisitesPresent()) {
      console.error(`Could not install the test prerequisites. Run as root: ${command}`);
      process.exit(1);
    }
  } else {
    console.error(`The tests need Debian's reference tools. Run as root: ${command}`);
    process.exit(1);
  }
}

const steps = [
  ['npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']],
  ['npx', ['eslint', 'src', 'tests', 'eslint']],
  ['npx', ['vitest', 'run', ...process.argv.slice(2)]],
];
for (const [cmd, args] of steps) {
  console.error(`\n> ${cmd} ${args.join(' ')}`);
  const status = run(cmd, args);
  if (status !== 0) process.exit(status);
}
