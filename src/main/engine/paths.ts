// Where Cellar's own source files are, for modules that run in worker threads.
// Unbundled (CLI, tests) this file sits at src/main/engine/paths.ts; inside the
// bundled desktop app the shell sets CELLAR_APP_ROOT to the app folder.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function appRoot(): string {
  return process.env.CELLAR_APP_ROOT ?? fileURLToPath(new URL('../../../', import.meta.url));
}

/** Absolute path of a file of the project, e.g. sourceFile('src/main/engine/h5ad/inspect-file.ts'). */
export function sourceFile(relative: string): string {
  return join(appRoot(), relative);
}

export const INSPECT_FILE_MODULE = 'src/main/engine/h5ad/inspect-file.ts';
