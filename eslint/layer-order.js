// The layers of Cellar, bottom first. A file may import from its own layer's folder or from
// a layer below it, never from a layer above or from a sibling at the same height: data
// flows one way (docs/architecture.md). Relative imports are resolved against the file.
import { dirname, relative, resolve } from 'node:path';

export const LAYERS = [
  ['src/shared'],
  ['src/main/engine/columns'],
  ['src/main/engine/threads'],
  ['src/main/engine/formats'],
  ['src/main/engine/store', 'src/main/registry'],
  ['src/main/engine/linalg', 'src/main/engine/stats'],
  ['src/main/engine/graph'],
  ['src/main/engine/ops'],
  ['src/main/engine/jobs'],
  ['src/main/shell'],
  ['src/main/ipc'],
  ['src/main/service'],
  ['src/main/serve'],
  ['src/main/cli', 'src/main/cli.ts', 'src/main/index.ts', 'src/main/workers'],
  // The two sides of the window have no layer above them: each may use only src/shared.
  ['src/preload'],
  ['src/renderer'],
];

const ROOT = resolve(import.meta.dirname, '..');

/** The layer (its height and folder) a repository path belongs to, if any. */
export function layerOf(path) {
  for (let height = 0; height < LAYERS.length; height++) {
    for (const folder of LAYERS[height]) {
      if (path === folder || path.startsWith(folder + '/') || path.startsWith(folder.replace(/\.ts$/, '') + '.')) return { height, folder };
    }
  }
  return undefined;
}

function allowed(from, to) {
  if (from.folder === to.folder) return true;
  // preload and renderer sit above everything in the list but may only reach down to src/shared.
  if (from.folder === 'src/preload' || from.folder === 'src/renderer') return to.folder === 'src/shared';
  return to.height < from.height;
}

export const layerOrderRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Each layer imports only from the layers below it (eslint/layer-order.js).' },
    schema: [],
  },
  create(context) {
    const file = relative(ROOT, context.filename);
    const from = layerOf(file);
    if (!from) return {};
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = relative(ROOT, resolve(dirname(context.filename), spec));
      const to = layerOf(target);
      if (!to || allowed(from, to)) return;
      const why = from.folder === 'src/preload' || from.folder === 'src/renderer' ? `${from.folder} may use only src/shared` : `${to.folder} is ${to.height === from.height ? 'beside' : 'above'} it in the layer order`;
      context.report({ node, message: `${from.folder} may not import ${target}: ${why} (eslint/layer-order.js).` });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};
