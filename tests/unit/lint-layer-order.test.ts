// The layer rule is what keeps the folders honest: it must refuse an import that runs up
// or sideways, and accept one that runs down or stays inside a folder.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: ROOT });

async function layerMessages(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return result!.messages.filter((m) => m.ruleId === 'cellar/layer-order').map((m) => m.message);
}

describe('the layer order (eslint/layer-order.js)', () => {
  it('refuses an import from a layer above', async () => {
    expect(await layerMessages('src/main/engine/store/x/probe.ts', "import { importFiles } from '../../ops/import';\nexport const f = importFiles;\n")).toEqual([
      'src/main/engine/store may not import src/main/engine/ops/import: src/main/engine/ops is above it in the layer order (eslint/layer-order.js).',
    ]);
  });
  it('refuses an import from a sibling at the same height, and a dynamic import from above', async () => {
    expect(await layerMessages('src/main/registry/probe.ts', "import { openStore } from '../engine/store/store-reader';\nexport const f = openStore;\nexport const g = () => import('../service/job-entry');\n")).toEqual([
      'src/main/registry may not import src/main/engine/store/store-reader: src/main/engine/store is beside it in the layer order (eslint/layer-order.js).',
      'src/main/registry may not import src/main/service/job-entry: src/main/service is above it in the layer order (eslint/layer-order.js).',
    ]);
  });
  it('lets the renderer and the preload use only src/shared', async () => {
    expect(await layerMessages('src/renderer/src/probe.ts', "import { openStore } from '../../main/engine/store/store-reader';\nimport { CHANNELS } from '../../shared/contract';\nexport const f = [openStore, CHANNELS];\n")).toEqual([
      'src/renderer may not import src/main/engine/store/store-reader: src/renderer may use only src/shared (eslint/layer-order.js).',
    ]);
  });
  it('accepts imports that run down or stay in the folder', async () => {
    expect(await layerMessages('src/main/engine/ops/probe.ts', "import { openStore } from '../store/store-reader';\nimport { importFiles } from './import';\nimport { CellarError } from '../../../shared/errors';\nexport const f = [openStore, importFiles, CellarError];\n")).toEqual([]);
  });
});
