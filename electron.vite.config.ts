// One build for everything that runs: the desktop app's main process, its preload and
// renderer, the `cellar` CLI, and every worker thread entry. Nothing is compiled at run time.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { rendererConfig } from './vite.renderer.config';

const src = (path: string) => resolve(__dirname, 'src', path);

/**
 * h5wasm's Node build carries its WebAssembly inline, as a 3.5 MB string literal in a 4.2 MB
 * script: every thread that loads it decodes and scans that source and then turns the string
 * back into bytes (~50–70 ms per thread). This writes a copy of the build beside the bundle
 * (out/main/h5wasm/) whose script reads the same bytes from a .wasm file instead;
 * engine/formats/h5ad/h5.ts loads that copy when it is there and the package otherwise.
 */
function h5wasmWithSeparateBinary(): Plugin {
  const marker = 'function findWasmBinary(){return binaryDecode(';
  const after = ')}function getBinarySync';
  return {
    name: 'h5wasm-separate-binary',
    apply: 'build',
    generateBundle() {
      const dist = resolve(__dirname, 'node_modules', 'h5wasm', 'dist', 'node');
      const script = readFileSync(join(dist, 'hdf5_util.js'), 'utf8');
      const start = script.indexOf(marker);
      const end = start < 0 ? -1 : script.indexOf(after, start);
      if (start < 0 || end < 0) throw new Error(`h5wasm's hdf5_util.js no longer inlines its binary as this build expects: update h5wasmWithSeparateBinary in electron.vite.config.ts`);
      // The literal is the package's own; evaluated alone, then decoded as the script's binaryDecode does.
      const literal = runInNewContext(script.slice(start + marker.length, end)) as string;
      const binary = new Uint8Array(literal.length);
      for (let i = 0; i < literal.length; i++) {
        const c = literal.charCodeAt(i);
        binary[i] = ~c >> 8 & c;
      }
      if (!WebAssembly.validate(binary)) throw new Error("h5wasm's inlined binary did not decode to valid WebAssembly");
      const reads = 'function findWasmBinary(){return require("fs").readFileSync(new URL("./hdf5_util.wasm",import.meta.url))}';
      this.emitFile({ type: 'asset', fileName: 'h5wasm/hdf5_util.wasm', source: binary });
      this.emitFile({ type: 'asset', fileName: 'h5wasm/hdf5_util.js', source: script.slice(0, start) + reads + script.slice(end + ')}'.length) });
      this.emitFile({ type: 'asset', fileName: 'h5wasm/hdf5_hl.js', source: readFileSync(join(dist, 'hdf5_hl.js'), 'utf8') });
    },
  };
}

export default defineConfig({
  main: {
    plugins: [h5wasmWithSeparateBinary()],
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
