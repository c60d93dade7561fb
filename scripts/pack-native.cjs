// electron-builder afterPack hook: puts better-sqlite3 built for the packaged Electron into the
// app's resources/native/ (the app passes it as better-sqlite3's nativeBinding).
// CELLAR_PACK_NATIVE=skip packs without it; =node puts the Node build there instead, for the
// packaged-layout check that boots the app in Node under an Electron stand-in (no network).
const { copyFileSync, mkdirSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { buildBetterSqliteForElectron } = require('./electron-native.cjs');

const ARCHS = ['ia32', 'x64', 'armv7l', 'arm64', 'universal'];

module.exports = async function packNative(context) {
  if (process.env.CELLAR_PACK_NATIVE === 'skip') {
    console.log('  • better-sqlite3 for Electron: skipped (CELLAR_PACK_NATIVE=skip)');
    return;
  }
  const resources = context.electronPlatformName === 'darwin' ? join(context.appOutDir, `${context.packager.appInfo.productFilename}.app`, 'Contents', 'Resources') : join(context.appOutDir, 'resources');
  const target = join(resources, 'native', 'better_sqlite3.node');
  if (process.env.CELLAR_PACK_NATIVE === 'node') {
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node'), target);
    console.log('  • better-sqlite3: the Node build (CELLAR_PACK_NATIVE=node, for the layout check)');
    return;
  }
  const electronVersion = context.packager.config.electronVersion ?? require('electron/package.json').version;
  buildBetterSqliteForElectron(electronVersion, target, ARCHS[context.arch] ?? process.arch);
};
