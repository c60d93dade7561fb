// Worker-side entry of a long job: opens its own registry connection (SQLite WAL lets
// the app, the CLI and workers share one home) and runs one operation.
import { openRegistry } from '../registry/registry';
import { importFiles } from '../engine/ops/import';
import { concatenateCollection } from '../engine/ops/concatenate';
import { appendToStore } from '../engine/ops/append';
import { embedStore } from '../engine/ops/embed';
import { exportQueryToH5ad, obsToCsv, openQuery, queryObs } from '../engine/ops/export';
import { writeFile, rename } from 'node:fs/promises';
import type { ProgressFn } from '../engine/ops/progress';

export type JobKind = 'import' | 'concatenate' | 'append' | 'embed' | 'export';

export interface JobControls {
  onProgress: ProgressFn;
  signal: AbortSignal;
}

export async function runJob(home: string, kind: JobKind, params: Record<string, unknown>, controls: JobControls): Promise<unknown> {
  const registry = openRegistry(home);
  const common = { registry, home, signal: controls.signal, onProgress: controls.onProgress };
  try {
    switch (kind) {
      case 'import':
        return await importFiles({ ...common, files: params.files as string[], collectionKey: params.collectionKey as string, description: params.description as string | undefined });
      case 'concatenate':
        return await concatenateCollection({ ...common, collectionKey: params.collectionKey as string, storeKey: params.storeKey as string, makeUnique: !!params.makeUnique });
      case 'append':
        return await appendToStore({ ...common, storeKey: params.storeKey as string, files: params.files as string[], fillMissing: !!params.fillMissing, makeUnique: !!params.makeUnique });
      case 'embed':
        return await embedStore({ ...common, storeKey: params.storeKey as string, name: params.name as string | undefined, pca: params.pca as never });
      case 'export': {
        const query = { registry, storeKey: params.storeKey as string, version: params.version as string | undefined, obs: params.obs as string | undefined, var: params.var as string | undefined, layer: params.layer as string | undefined };
        if (params.format === 'csv') {
          const q = await openQuery(query);
          try {
            const out = params.out as string;
            await writeFile(`${out}.partial`, obsToCsv(queryObs(q)));
            await rename(`${out}.partial`, out);
            return { path: out, n_obs: q.selection.obsJoinids.length };
          } finally {
            q.reader.close();
          }
        }
        return await exportQueryToH5ad({ ...query, out: params.out as string, signal: controls.signal, onProgress: controls.onProgress });
      }
    }
  } finally {
    registry.close();
  }
}
