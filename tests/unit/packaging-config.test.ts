// The packaging configuration: valid for electron-builder on every platform (only Linux can be
// built here, so macOS and Windows are checked against electron-builder's own schema), the
// .h5ad association, icons for each platform, and a deb post-install that keeps
// electron-builder's own steps and adds the MIME type.
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfiguration } from 'app-builder-lib/out/util/config/config';

const ROOT = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
const config = require(join(ROOT, 'electron-builder.config.cjs')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('packaging configuration', () => {
  it('passes electron-builder 26 validation, for Linux, macOS and Windows', async () => {
    const debug = { isEnabled: false, add: () => undefined, toString: () => '' };
    await expect(validateConfiguration(structuredClone(config), debug as never)).resolves.toBeUndefined();
    await expect(validateConfiguration({ ...structuredClone(config), linux: { desktop: { MimeType: 'application/x-h5ad;' } as never } }, debug as never)).rejects.toThrow(/desktop/);
    expect(config.linux.target).toEqual(['deb', 'AppImage']);
    expect(config.mac.target).toBe('dmg');
    expect(config.win.target).toBe('nsis');
  });

  it('associates .h5ad files with the app, by MIME type on Linux', () => {
    expect(config.fileAssociations).toEqual([expect.objectContaining({ ext: 'h5ad', mimeType: 'application/x-h5ad' })]);
    expect(config.linux.mimeTypes).toEqual(['application/x-h5ad']);
    expect(config.extraResources).toEqual([{ from: 'resources/cellar-h5ad.xml', to: 'mime/cellar-h5ad.xml' }]);
    const mime = readFileSync(join(ROOT, 'resources', 'cellar-h5ad.xml'), 'utf8');
    expect(mime).toContain('<mime-type type="application/x-h5ad">');
    expect(mime).toContain('<glob pattern="*.h5ad"/>');
    // The command `cellar` is the CLI's; the desktop app has its own.
    expect(config.executableName).toBe('cellar-desktop');
  });

  it('has icons for every platform', () => {
    const icons = join(ROOT, 'resources');
    const png = readFileSync(join(icons, 'icons', 'png', '512x512.png'));
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(512);
    const icns = readFileSync(join(icons, config.mac.icon));
    expect(icns.subarray(0, 4).toString('ascii')).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const ico = readFileSync(join(icons, config.win.icon));
    expect(ico.readUInt16LE(2)).toBe(1);
    expect(ico.readUInt16LE(4)).toBeGreaterThanOrEqual(4);
    expect(existsSync(join(icons, `${config.fileAssociations[0].icon}.icns`))).toBe(true);
    expect(existsSync(join(icons, `${config.fileAssociations[0].icon}.ico`))).toBe(true);
  });

  it('keeps electron-builder’s post-install steps and adds the MIME type', () => {
    const defaults = readFileSync(join(ROOT, 'node_modules', 'app-builder-lib', 'templates', 'linux', 'after-install.tpl'), 'utf8');
    const script = readFileSync(config.deb.afterInstall, 'utf8');
    expect(script.startsWith(defaults.trimEnd())).toBe(true);
    expect(script).toContain("chmod 4755 '/opt/${sanitizedProductName}/chrome-sandbox'");
    expect(script).toContain("xdg-mime install --mode system --novendor '/opt/${sanitizedProductName}/resources/mime/cellar-h5ad.xml'");
  });

  it('declares the fuses of a hardened app, and only a stand-in Electron is packed without them', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
    const standin = spawnSync(process.execPath, ['-e', "process.stdout.write(JSON.stringify(require('./electron-builder.config.cjs').electronFuses))"], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CELLAR_PACK_STANDIN_ELECTRON: '1' } });
    expect(standin.stdout).toBe('null');
  });

  it('never rebuilds native modules in place, and unpacks what threads and addons read', () => {
    expect(config.npmRebuild).toBe(false);
    expect(config.asarUnpack).toEqual(expect.arrayContaining(['out/main/**', 'node_modules/better-sqlite3/**', 'node_modules/zstd-napi/**', 'node_modules/lz4-napi/**', 'node_modules/h5wasm/**', 'node_modules/h5wasm-plugins/**', 'node_modules/parquet-wasm/**']));
    expect(config.afterPack).toBe('./scripts/pack-native.cjs');
  });
});
