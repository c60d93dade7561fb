// Packaging (electron-builder) for Linux (deb, AppImage), macOS (dmg) and Windows (nsis).
// The app is the build output (out/) plus the runtime dependencies that stay files on disk:
// native addons, h5wasm with its plugins, and parquet-wasm. Worker threads and addons read their files
// with the plain file system, so they are unpacked from the asar archive. better-sqlite3 is
// never rebuilt in place (the Node build in node_modules serves the CLI and the tests): an
// Electron-ABI build is put in resources/native/ by scripts/pack-native.cjs.
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const here = __dirname;

/** The deb's post-install: electron-builder's own script (sandbox, command link, MIME and desktop databases), then ours. */
function debAfterInstall() {
  const defaults = readFileSync(join(require.resolve('app-builder-lib/package.json'), '..', 'templates', 'linux', 'after-install.tpl'), 'utf8');
  const ours = readFileSync(join(here, 'resources', 'linux', 'after-install-extra.sh'), 'utf8');
  const dir = join(here, 'dist', 'package-scripts');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'deb-after-install.sh');
  writeFileSync(path, `${defaults.trimEnd()}\n${ours}`);
  return path;
}

/**
 * Electron's fuses, flipped in the packaged binary: no running as plain Node, no NODE_OPTIONS
 * or inspector flags, cookies encrypted, the app only from an integrity-checked app.asar,
 * no extra privileges for file://. The packaging check packs a stand-in folder with no real
 * binary to flip (CELLAR_PACK_STANDIN_ELECTRON=1), so it packs without them.
 */
const FUSES = {
  runAsNode: false,
  enableCookieEncryption: true,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  grantFileProtocolExtraPrivileges: false,
};

/** @type {import('app-builder-lib').Configuration} */
module.exports = {
  electronFuses: process.env.CELLAR_PACK_STANDIN_ELECTRON === '1' ? null : FUSES,
  appId: 'org.cellar.desktop',
  productName: 'Cellar',
  // The `cellar` command is the CLI; the desktop app's own command must not take its name.
  executableName: 'cellar-desktop',
  directories: { output: 'dist', buildResources: 'resources' },
  files: [
    'out/**',
    'package.json',
    '!node_modules/better-sqlite3/{build,deps,src}/**',
    '!node_modules/zstd-napi/{deps,src}/**',
    '!node_modules/zstd-napi/build/*/obj*/**',
    '!**/*.{md,map,ts,gyp,gypi}',
  ],
  asarUnpack: [
    'out/main/**',
    'node_modules/better-sqlite3/**',
    'node_modules/bindings/**',
    'node_modules/file-uri-to-path/**',
    'node_modules/zstd-napi/**',
    'node_modules/lz4-napi/**',
    'node_modules/@antoniomuso/**',
    'node_modules/h5wasm/**',
    'node_modules/h5wasm-plugins/**',
    'node_modules/parquet-wasm/**',
  ],
  extraResources: [{ from: 'resources/cellar-h5ad.xml', to: 'mime/cellar-h5ad.xml' }],
  // Rebuilding would overwrite node_modules/better-sqlite3 with an Electron-ABI build and
  // break the CLI and the tests; the Electron build goes to resources/native/ instead.
  npmRebuild: false,
  nodeGypRebuild: false,
  afterPack: './scripts/pack-native.cjs',
  fileAssociations: [
    {
      ext: 'h5ad',
      name: 'AnnData dataset',
      description: 'AnnData single-cell dataset',
      mimeType: 'application/x-h5ad',
      role: 'Editor',
      icon: 'icons/h5ad',
    },
  ],
  linux: {
    target: ['deb', 'AppImage'],
    category: 'Science',
    icon: 'icons/png',
    mimeTypes: ['application/x-h5ad'],
    maintainer: 'Cellar <cellar@cellar.invalid>',
    synopsis: 'Manage single-cell datasets (.h5ad) in a versioned array store',
    desktop: { entry: { Categories: 'Science;Biology;', StartupWMClass: 'Cellar' } },
  },
  deb: {
    afterInstall: debAfterInstall(),
    depends: ['libgtk-3-0', 'libnotify4', 'libnss3', 'libxss1', 'libxtst6', 'xdg-utils', 'libatspi2.0-0', 'libuuid1', 'libsecret-1-0', 'shared-mime-info'],
  },
  mac: {
    target: 'dmg',
    category: 'public.app-category.education',
    icon: 'icons/icon.icns',
  },
  win: {
    target: 'nsis',
    icon: 'icons/icon.ico',
  },
};
