// Where Cellar keeps its registry, managed files and stores. The CLI and the desktop
// app share one default, the app's user-data folder, so both see the same library.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const APP_NAME = 'Cellar';

/** The desktop app's user-data folder (what Electron's app.getPath('userData') returns for "Cellar"). */
export function defaultUserDataDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_NAME);
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), APP_NAME);
}

/** --home wins, then CELLAR_HOME, then the app's user-data folder. */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.CELLAR_HOME) return resolve(env.CELLAR_HOME);
  return defaultUserDataDir(process.platform, env);
}
