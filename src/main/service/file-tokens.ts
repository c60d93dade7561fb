// The page never sees a path: a file the user chose, dropped, double-clicked or uploaded is
// known to it by a random token, which the service turns back into the path. One table per
// process (the desktop app's, or a `cellar serve`'s), filled only here.
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import type { OpenedFile } from '../../shared/contract';

/** Gives the file a token in `files` and describes it for the page (its size when it can be read). */
export function registerFileToken(files: Map<string, string>, path: string): OpenedFile {
  const fileToken = randomUUID();
  files.set(fileToken, path);
  let size: number | undefined;
  try {
    // A Matrix Market folder has no one size worth showing (a directory's own size is not its data's).
    const stat = statSync(path);
    if (stat.isFile()) size = stat.size;
  } catch {
    // Gone since it was named: the page says so when it reads it.
  }
  return { fileToken, name: path.split(/[\\/]/).pop() ?? path, ...(size === undefined ? {} : { size }) };
}
