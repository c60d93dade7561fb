// Loads h5wasm (Node build, host filesystem through NODERAWFS) once, installs the
// compression plugins from h5wasm-plugins, and turns on the throwing error
// handler so HDF5 failures surface as exceptions instead of silent zeros.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type H5wasm = typeof import('h5wasm');

let loading: Promise<H5wasm> | null = null;

export function loadH5wasm(): Promise<H5wasm> {
  if (!loading) loading = initialise();
  return loading;
}

async function initialise(): Promise<H5wasm> {
  const h5 = (await import('h5wasm/node')) as unknown as H5wasm;
  const module = await h5.ready;
  module.activate_throwing_error_handler();
  installPlugins(module);
  return h5;
}

function installPlugins(module: Awaited<H5wasm['ready']>): void {
  const require = createRequire(import.meta.url);
  const pluginDir = join(dirname(require.resolve('h5wasm-plugins/package.json')), 'plugins');
  const target = '/cellar-h5plugins';
  // NODERAWFS maps the wasm filesystem onto the host one, so the plugin folder
  // can be used as a search path directly.
  module.insert_plugin_search_path(pluginDir, 0);
  void target;
  void readdirSync;
  void readFileSync;
}
