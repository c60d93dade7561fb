// A Parquet export that is cancelled or fails part-way (after some X files were written) leaves
// neither the target nor its hidden staging folder, records the run as cancelled or failed, and
// leaves the store as it was.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportQueryToParquet } from '../../src/main/engine/ops/export-parquet';
import { openRegistry, type Registry } from '../../src/main/registry/registry';
import { cellar, removeDir, snapshotTree, tempDir } from './helpers/cellar';
import { makeParquetInputs } from './helpers/parquet-inputs';

let work: string;
let home: string;
let registry: Registry;

beforeAll(() => {
  work = tempDir('parquet-cancel');
  home = join(work, 'home');
  const inputs = makeParquetInputs(join(work, 'in'));
  for (const args of [['import', inputs.p1, inputs.p2, '--collection', 'c'], ['concat', '--collection', 'c', '--store', 's']]) {
    const result = cellar(args, { home });
    if (result.code !== 0) throw new Error(result.stderr);
  }
  registry = openRegistry(home);
}, 120_000);

afterAll(() => {
  registry?.close();
  removeDir(work);
});

describe('an interrupted Parquet export', () => {
  it('is cancelled after X files were written, and leaves nothing', async () => {
    const out = join(work, 'cancelled');
    const stores = snapshotTree(join(home, 'stores'));
    const stop = new AbortController();
    const phases: string[] = [];
    const attempt = exportQueryToParquet({
      registry,
      storeKey: 's',
      out,
      maxNnzPerFile: 50,
      signal: stop.signal,
      onProgress: (p) => {
        phases.push(p.phase);
        // Several blocks of X have been written by the time the second layer starts.
        if (p.phase === 'Writing the layer counts') stop.abort();
      },
    });
    await expect(attempt).rejects.toMatchObject({ code: 'cancelled', message: 'Export cancelled; nothing was written.' });
    expect(phases).toContain('Writing expression values');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((n) => n.includes('partial'))).toEqual([]);
    expect(snapshotTree(join(home, 'stores'))).toEqual(stores);
    const run = registry.listRuns(1)[0]!;
    expect([run.transform.name, run.status]).toEqual(['export', 'cancelled']);
  });

  it('fails part-way on a bad target and removes its staging folder', async () => {
    const out = join(work, 'failing');
    // The target appears while the export runs: the final rename must not replace it.
    const attempt = exportQueryToParquet({
      registry,
      storeKey: 's',
      out,
      onProgress: (p) => {
        if (p.phase === 'Writing expression values' && !existsSync(out)) {
          cellar(['export', '--store', 's', '--format', 'parquet', '--obs', 'n_genes > 100000', out], { home });
        }
      },
    });
    await expect(attempt).rejects.toMatchObject({ code: 'already_exists', message: expect.stringMatching(/^The folder .*failing is not empty/) });
    // The other export's files are still there, and nothing of the first.
    expect(readdirSync(out).sort()).toEqual(['README.md', 'ms', 'obs.parquet']);
    expect(readdirSync(work).filter((n) => n.includes('partial'))).toEqual([]);
    const runs = registry.listRuns(2);
    expect(runs.map((r) => r.status).sort()).toEqual(['completed', 'failed']);
  });
});
