// Process boundaries are enforced here, not by hope: the engine and registry never
// import Electron or touch the DOM; shared and renderer code never import Node or Electron.
import tseslint from 'typescript-eslint';
import { layerOrderRule } from './eslint/layer-order.js';

const nodeModules = ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'url', 'module', 'better-sqlite3', 'h5wasm', 'h5wasm/*'];
const domGlobals = ['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'HTMLElement'];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'tests/fixtures/**', 'test-output/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // The layer order of the whole tree, one list (eslint/layer-order.js).
    files: ['src/**'],
    plugins: { cellar: { rules: { 'layer-order': layerOrderRule } } },
    rules: { 'cellar/layer-order': 'error' },
  },
  {
    // Everything of the main process but its Electron shell (index.ts) runs without Electron.
    files: ['src/main/**'],
    ignores: ['src/main/index.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'The engine runs without Electron (CLI, worker, tests).' }] }],
      'no-restricted-globals': ['error', ...domGlobals.map((name) => ({ name, message: 'The engine has no DOM.' }))],
    },
  },
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['electron'], patterns: nodeModules }],
      'no-restricted-globals': ['error', ...domGlobals],
    },
  },
  {
    // The sandboxed preload: electron and the shared contract, nothing of Node or the main process.
    files: ['src/preload/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...nodeModules, '../main/*', '../renderer/*'] }],
    },
  },
  {
    files: ['src/renderer/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['electron'], patterns: nodeModules }],
    },
  },
);
