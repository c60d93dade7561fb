// better-sqlite3 built for Electron's ABI, kept apart from the Node build in node_modules (which
// the CLI and the tests use), so `npm start`, `npm test` and packaging never overwrite each
// other's binary. Prebuilt binaries when the registry has them, else compiled against
// Electron's headers; both need a network connection the first time.
const { spawnSync } = require('node:child_process');
const { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join, sep } = require('node:path');

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit', shell: process.platform === 'win32' });
  return r.status === 0;
}

/** Writes better_sqlite3.node for Electron `electronVersion` (and `arch`) to `outFile`; throws when it cannot. */
function buildBetterSqliteForElectron(electronVersion, outFile, arch = process.arch) {
  if (existsSync(outFile)) return outFile;
  const work = mkdtempSync(join(tmpdir(), 'cellar-sqlite-electron-'));
  try {
    const source = dirname(require.resolve('better-sqlite3/package.json'));
    cpSync(source, work, { recursive: true, filter: (p) => !p.startsWith(join(source, 'build') + sep) && p !== join(source, 'build') });
    const prebuilt = run('npx', ['--no-install', 'prebuild-install', '--runtime', 'electron', '--target', electronVersion, '--arch', arch], work);
    if (!prebuilt && !run('npx', ['--no-install', 'node-gyp', 'rebuild', '--release', `--target=${electronVersion}`, `--arch=${arch}`, '--dist-url=https://electronjs.org/headers'], work)) {
      throw new Error(`Could not build better-sqlite3 for Electron ${electronVersion} (no prebuilt binary, and compiling needs Electron's headers from the network).`);
    }
    mkdirSync(dirname(outFile), { recursive: true });
    copyFileSync(join(work, 'build', 'Release', 'better_sqlite3.node'), outFile);
    return outFile;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { buildBetterSqliteForElectron };
