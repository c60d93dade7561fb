// One build for everything that runs: the desktop app's main process, its preload and
// renderer, the `cellar` CLI, and every worker thread entry. Nothing is compiled at run time.
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { rendererConfig } from './vite.renderer.config';

const src = (path: string) => resolve(__dirname, 'src', path);

export default defineConfig({
  main: {
    build: {
      // Only what must stay a file on disk is left external (package.json "dependencies":
      // native addons and h5wasm with its plugins); everything else is bundled.
      externalizeDeps: true,
      target: 'node20',
      rollupOptions: {
        input: {
          index: src('main/index.ts'),
          cli: src('main/cli.ts'),
          // Thread entries: engine/threads/start-thread.ts finds them beside the code that starts them.
          'task-worker': src('main/workers/task-worker.ts'),
          'pca-worker': src('main/engine/linalg/pca-worker.ts'),
          'row-decode-worker': src('main/engine/store/x/row-decode-worker.ts'),
          'x-encode-worker': src('main/engine/store/x/x-encode-worker.ts'),
        },
        output: {
          format: 'es',
          entryFileNames: '[name].js',
          // Chunks sit beside the entries, so a thread entry's path is the same from any chunk.
          chunkFileNames: '[name]-[hash].js',
        },
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload is a classic script whose require offers only electron:
      // one CommonJS file with everything else inlined.
      externalizeDeps: false,
      rollupOptions: {
        external: ['electron'],
        input: { index: src('preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs', inlineDynamicImports: true },
      },
    },
  },
  renderer: rendererConfig,
});
