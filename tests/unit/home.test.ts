// The home (registry, stores) is not in Electron's profile folder: clearing the app's cache
// or settings never deletes datasets. A library an older Cellar left there is moved once.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseDefaultHome, defaultHome, electronProfileDir, resolveHomeWithNote } from '../../src/main/shell/home';

function user() {
  const root = mkdtempSync(join(tmpdir(), 'cellar-home-user-'));
  return { root, env: { XDG_DATA_HOME: join(root, 'data'), XDG_CONFIG_HOME: join(root, 'config') } as NodeJS.ProcessEnv };
}

function oldLibrary(dir: string): void {
  mkdirSync(join(dir, 'stores', 'abc', 'manifests'), { recursive: true });
  mkdirSync(join(dir, 'storage'), { recursive: true });
  writeFileSync(join(dir, 'registry.sqlite'), 'registry bytes');
  writeFileSync(join(dir, 'stores', 'abc', 'manifests', '1.json'), '{}');
  // Electron's own files in the profile folder stay where they are.
  mkdirSync(join(dir, 'Cache'), { recursive: true });
  writeFileSync(join(dir, 'Preferences'), '{}');
}

describe('the default home', () => {
  it('is the data folder of the OS, apart from the profile folder Electron uses', () => {
    expect(defaultHome('linux', { XDG_DATA_HOME: '/d' })).toBe('/d/Cellar');
    expect(electronProfileDir('linux', { XDG_CONFIG_HOME: '/c' })).toBe('/c/Cellar');
    expect(defaultHome('win32', { LOCALAPPDATA: 'C:/L' })).toBe(join('C:/L', 'Cellar'));
    expect(electronProfileDir('win32', { APPDATA: 'C:/R' })).toBe(join('C:/R', 'Cellar'));
    expect(defaultHome('darwin', {})).not.toBe(electronProfileDir('darwin', {}));
    expect(resolveHomeWithNote('/x', {})).toEqual({ home: '/x', note: null });
    expect(resolveHomeWithNote(undefined, { CELLAR_HOME: '/y' })).toEqual({ home: '/y', note: null });
  });

  it('moves a library left in the profile folder, and only the library', () => {
    const { env } = user();
    const legacy = electronProfileDir('linux', env);
    oldLibrary(legacy);
    const choice = chooseDefaultHome('linux', env);
    const home = defaultHome('linux', env);
    expect(choice).toEqual({ home, note: `Your library was moved from ${legacy} to ${home}, away from the app's own settings and cache.` });
    expect(readFileSync(join(home, 'registry.sqlite'), 'utf8')).toBe('registry bytes');
    expect(existsSync(join(home, 'stores', 'abc', 'manifests', '1.json'))).toBe(true);
    expect(existsSync(join(legacy, 'registry.sqlite'))).toBe(false);
    expect(existsSync(join(legacy, 'Preferences'))).toBe(true);
    expect(existsSync(join(legacy, 'Cache'))).toBe(true);
    // Once moved, nothing more to say.
    expect(chooseDefaultHome('linux', env)).toEqual({ home, note: null });
  });

  it('uses an open library where it is, with a note, and moves nothing', () => {
    const { env } = user();
    const legacy = electronProfileDir('linux', env);
    oldLibrary(legacy);
    writeFileSync(join(legacy, 'registry.sqlite-wal'), 'in use');
    const choice = chooseDefaultHome('linux', env);
    expect(choice.home).toBe(legacy);
    expect(choice.note).toContain('it is open in another program');
    expect(existsSync(join(legacy, 'registry.sqlite'))).toBe(true);
    expect(existsSync(join(defaultHome('linux', env), 'registry.sqlite'))).toBe(false);
  });

  it('keeps the old library whole when the new place already holds Cellar files', () => {
    const { env } = user();
    const legacy = electronProfileDir('linux', env);
    oldLibrary(legacy);
    mkdirSync(join(defaultHome('linux', env), 'stores'), { recursive: true });
    const choice = chooseDefaultHome('linux', env);
    expect(choice.home).toBe(legacy);
    expect(choice.note).toContain('could not be moved');
    expect(existsSync(join(legacy, 'registry.sqlite'))).toBe(true);
    expect(existsSync(join(legacy, 'stores', 'abc', 'manifests', '1.json'))).toBe(true);
  });
});
