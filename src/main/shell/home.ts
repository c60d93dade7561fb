// Where Cellar keeps its registry, managed files and stores: the home. The CLI and the
// desktop app share one default, a Cellar folder in the OS's place for user data, kept
// apart from Electron's profile (Chromium's cache, local storage, session data), so
// clearing the app's settings never deletes datasets.
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const APP_NAME = 'Cellar';

/** The default home: $XDG_DATA_HOME/Cellar, ~/Library/Application Support/Cellar Data, %LOCALAPPDATA%\Cellar. */
export function defaultHome(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', `${APP_NAME} Data`);
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), APP_NAME);
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), APP_NAME);
}

/** Electron's profile folder for "Cellar" (app.getPath('userData')): the home's default before it moved. */
export function electronProfileDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_NAME);
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_NAME);
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), APP_NAME);
}

/** --home wins, then CELLAR_HOME, then the default home. */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.CELLAR_HOME) return resolve(env.CELLAR_HOME);
  return defaultHome(process.platform, env);
}

/** What a home holds (everything else in the old profile folder belongs to Electron). */
const HOME_ENTRIES = ['registry.sqlite', 'storage', 'stores', 'exports', 'logs'];

export interface HomeChoice {
  home: string;
  /** Said to the user once: the library was moved, or is used where it is and why. */
  note: string | null;
}

/**
 * The default home, after adopting a library left in Electron's profile folder by an older
 * Cellar: its entries are moved (renamed, nothing copied) into the new home. When that is
 * not safe (the registry is open in another process: its write-ahead log exists) or not
 * possible (another disk), the old folder is used where it is, with a note saying so.
 */
export function chooseDefaultHome(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): HomeChoice {
  const home = defaultHome(platform, env);
  const legacy = electronProfileDir(platform, env);
  if (home === legacy || existsSync(join(home, 'registry.sqlite')) || !existsSync(join(legacy, 'registry.sqlite'))) return { home, note: null };
  if (existsSync(join(legacy, 'registry.sqlite-wal'))) {
    return { home: legacy, note: `Your library is used where an older Cellar kept it, ${legacy}: it is open in another program, so it was not moved to ${home}. Quit the other Cellar and start again to move it.` };
  }
  const moved: string[] = [];
  try {
    mkdirSync(home, { recursive: true });
    if (readdirSync(home).some((name) => HOME_ENTRIES.includes(name))) throw new Error(`${home} already holds Cellar files`);
    for (const name of HOME_ENTRIES) {
      const from = join(legacy, name);
      if (!existsSync(from)) continue;
      renameSync(from, join(home, name));
      moved.push(name);
    }
    // A cleanly closed registry leaves no shared-memory file; a stale one moves with it.
    if (existsSync(join(legacy, 'registry.sqlite-shm'))) renameSync(join(legacy, 'registry.sqlite-shm'), join(home, 'registry.sqlite-shm'));
    return { home, note: `Your library was moved from ${legacy} to ${home}, away from the app's own settings and cache.` };
  } catch (err) {
    // Put back what moved, so the library stays whole in one place.
    for (const name of moved.reverse()) {
      try {
        renameSync(join(home, name), join(legacy, name));
      } catch {
        // Left where it is; the note below names both folders.
      }
    }
    return { home: legacy, note: `Your library is used where an older Cellar kept it, ${legacy}: it could not be moved to ${home} (${(err as Error).message}).` };
  }
}

/** The home for this process: --home, CELLAR_HOME, else the default (adopting an old library once). */
export function resolveHomeWithNote(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): HomeChoice {
  if (flag || env.CELLAR_HOME) return { home: resolveHome(flag, env), note: null };
  return chooseDefaultHome(process.platform, env);
}
