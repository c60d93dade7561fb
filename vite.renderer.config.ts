// The renderer's build, shared by electron-vite (desktop) and `cellar serve` (browser).
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import type { UserConfig } from 'vite';

export const rendererConfig: UserConfig = {
  root: resolve(__dirname, 'src/renderer'),
  base: './',
  plugins: [react()],
  // Workers (the scatter plot's hit test) are module workers, built as ES modules beside the page's chunks.
  worker: { format: 'es' },
  build: {
    outDir: resolve(__dirname, 'out/renderer'),
    emptyOutDir: true,
    rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
  },
};

export default rendererConfig;
