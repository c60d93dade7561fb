// Where the built app's files are. The CLI and the desktop shell run from out/main/; the
// renderer and the preload are built beside it (out/renderer/, out/preload/). Resolved from
// this module's own location, so it holds in the source tree, the bundle and a packaged app.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** out/main/: the bundle's own folder, or the build's folder when running from source (tests). */
export const BUILT_MAIN_DIR = import.meta.url.endsWith('.ts') ? join(HERE, '..', '..', '..', 'out', 'main') : HERE;

export const RENDERER_DIR = join(BUILT_MAIN_DIR, '..', 'renderer');
export const PRELOAD_FILE = join(BUILT_MAIN_DIR, '..', 'preload', 'index.cjs');
