// The Parquet export as a job of the service (what the desktop app and `cellar serve` run):
// the folder the save dialog names is filled, DuckDB reads the filtered cells from it, a
// folder that is not empty fails the job with the CLI's message and stays as it was, and in
// browser mode the folder stays in the home (no single-file download is offered for it).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/main/service/handlers';
import { exportFileName } from '../../src/main/service/handlers/exports';
import type { JobSnapshot } from '../../src/shared/contract';
import { contractCaller } from './helpers/service';
import { makeParquetInputs } from './helpers/parquet-inputs';

let home: string;
let data: string;
let service: Service;
let saveTo: string | null = null;
const files = new Map<string, string>();
const { invoke, refused, tokenFor, finished } = contractCaller(() => service, files);

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cellar-pq-service-home-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-pq-service-data-'));
  const inputs = makeParquetInputs(data);
  service = createService({ home, mode: 'desktop', version: '0.1.0', files, chooseSavePath: async () => saveTo });
  await finished(await invoke('import:start', { fileTokens: [inputs.p1, inputs.p2].map(tokenFor), collectionKey: 'c' }), 'import');
  await finished(await invoke('concat:start', { collectionKey: 'c', storeKey: 'atlas' }), 'concatenate');
}, 120_000);

afterAll(() => {
  service?.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

describe('the Parquet export job', () => {
  it('writes the folder the dialog chose, with the filtered cells', async () => {
    saveTo = join(data, 'chosen');
    const result = await finished(await invoke('export:start', { storeKey: 'atlas', obs: 'cell_type == "B"', format: 'parquet' }), 'export');
    expect(result).toMatchObject({ path: saveTo, n_vars: 30, download: null });
    expect(readdirSync(saveTo).sort()).toEqual(['README.md', 'ms', 'obs.parquet']);
    const db = await DuckDBInstance.create(':memory:');
    const sql = await db.connect();
    try {
      const rows = (await sql.runAndReadAll(`SELECT count(*) AS n, count(*) FILTER (cell_type = 'B') AS b FROM '${saveTo}/obs.parquet'`)).getRowObjectsJS()[0]!;
      expect([Number(rows.n), Number(rows.b)]).toEqual([result.n_obs, result.n_obs]);
      expect(result.n_obs).toBeGreaterThan(0);
    } finally {
      sql.closeSync();
      db.closeSync();
    }
  });

  it('fails on a folder that is not empty, and leaves it as it was', async () => {
    saveTo = join(data, 'busy');
    mkdirSync(saveTo);
    writeFileSync(join(saveTo, 'mine.txt'), 'keep');
    const started = await invoke('export:start', { storeKey: 'atlas', format: 'parquet' });
    const job = (await service.jobs.wait(started.id)) as JobSnapshot;
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({ code: 'already_exists', message: `The folder ${saveTo} is not empty; choose a new or empty folder for the Parquet export.` });
    expect(readdirSync(saveTo)).toEqual(['mine.txt']);
    expect(readdirSync(data).filter((n) => n.includes('partial'))).toEqual([]);
  });

  it('names the default folder without a .parquet suffix, and refuses unknown formats', async () => {
    expect(exportFileName('lab/pbmc', '2', 'parquet')).toBe('lab_pbmc-v2-slice-parquet');
    expect(exportFileName('lab/pbmc', '2', 'h5ad')).toBe('lab_pbmc-v2-slice.h5ad');
    expect((await refused('export:start', { storeKey: 'atlas', format: 'feather' as 'parquet' })).message).toBe('export:start: "format" must be h5ad, csv or parquet.');
  });
});
