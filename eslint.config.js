// Process boundaries are enforced here, not by hope: the engine and registry never
// import Electron or touch the DOM; shared and renderer code never import Node or Electron.
import tseslint from 'typescript-eslint';

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
    files: ['src/main/engine/**', 'src/main/registry/**', 'src/main/cli.ts', 'src/main/cli/**', 'src/main/serve/**', 'src/main/service/**', 'src/main/ipc/**', 'src/main/workers/**', 'src/main/home.ts', 'src/main/app-files.ts', 'src/main/app-protocol.ts', 'src/main/security.ts', 'src/main/open-files.ts'],
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
