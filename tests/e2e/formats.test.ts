// Datasets other than .h5ad from the page served by `cellar serve` in Chromium: a 10x .h5
// uploaded through the file input and imported beside a Matrix Market folder the CLI
// imported, then concatenated keeping only the genes both measured. The expected gene
// count is computed here from the fixtures themselves, not from the engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runPythonJson } from '../integration/helpers/python';
import { cellarAsync } from '../integration/helpers/cellar';
import { launchBrowser, ROOT, screenshot, serve, waitForJobEnd, type Served } from './helpers';

const STEP_MS = 150_000;
const FORMATS = join(ROOT, 'tests', 'fixtures', 'formats');
const TENX_H5 = join(FORMATS, 'tenx_v3.h5');
const MTX_FOLDER = join(FORMATS, 'mtx_v3');

// Gene expression features only: the engine sets other feature types (antibody capture) aside.
const GENE_SETS = `
import sys, json, gzip, h5py
features = h5py.File(sys.argv[1], 'r')['matrix/features']
tenx = sorted(i.decode() for i, t in zip(features['id'][:], features['feature_type'][:]) if t == b'Gene Expression')
rows = [line.split('\\t') for line in gzip.open(sys.argv[2] + '/features.tsv.gz', 'rt').read().splitlines()]
mtx = sorted(r[0] for r in rows if r[2] == 'Gene Expression')
barcodes = gzip.open(sys.argv[2] + '/barcodes.tsv.gz', 'rt').read().split()
print(json.dumps({'tenx': tenx, 'mtx': mtx, 'tenx_cells': int(h5py.File(sys.argv[1], 'r')['matrix/shape'][1]), 'mtx_cells': len(barcodes)}))
`;

interface GeneSets {
  tenx: string[];
  mtx: string[];
  tenx_cells: number;
  mtx_cells: number;
}

let served: Served;
let browser: Browser;
let page: Page;
let home: string;
let genes: GeneSets;

async function cli<T>(args: string[]): Promise<T> {
  const r = await cellarAsync([...args, '--json'], { home });
  expect(r.code, r.stderr).toBe(0);
  return r.json as T;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cellar-e2e-formats-home-'));
  genes = runPythonJson<GeneSets>(GENE_SETS, [TENX_H5, MTX_FOLDER]);
  // A folder cannot be uploaded as one file, so the Matrix Market dataset comes in through the CLI.
  await cli(['import', MTX_FOLDER, '--collection', 'tenx']);
  served = await serve(home);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('datasets other than .h5ad in the browser', () => {
  it('uploads and imports a 10x .h5 file, with no folder button in the browser', async () => {
    await page.goto(served.url);
    await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: 'Add a Matrix Market folder…' }).count()).toBe(0);
    expect(await page.getByTestId('file-input').first().getAttribute('accept')).toBe('.h5ad,.h5,.loom');
    await page.getByTestId('file-input').first().setInputFiles(TENX_H5);
    const pending = page.locator('[data-testid=pending-file][data-status=ok]');
    await pending.waitFor({ timeout: 60_000 });
    expect(await pending.textContent()).toContain(`${genes.tenx_cells} cells × ${genes.tenx.length} genes`);
    await page.getByLabel('Collection', { exact: true }).fill('tenx');
    await page.getByRole('button', { name: 'Import 1 file' }).click();
    expect(await waitForJobEnd(page.getByRole('region', { name: 'Import files' }))).toBe('completed');
    await expect.poll(() => page.getByTestId('collection-members').first().textContent(), { timeout: 30_000 }).toBe('mtx_v3, tenx_v3.h5');
  }, STEP_MS);

  it('concatenates keeping only the genes every file measured', async () => {
    const shared = genes.tenx.filter((id) => genes.mtx.includes(id));
    const union = new Set([...genes.tenx, ...genes.mtx]).size;
    // The fixtures overlap only partly, so the two joins give different stores.
    expect(shared.length).toBeGreaterThan(0);
    expect(shared.length).toBeLessThan(union);

    await page.getByTestId('collection').filter({ hasText: 'tenx' }).getByRole('link', { name: 'Concatenate…' }).click();
    const plan = page.getByTestId('plan');
    await plan.waitFor({ timeout: 60_000 });
    await expect.poll(() => plan.textContent(), { timeout: 60_000 }).toContain(`${union} genes`);
    await page.getByRole('radio', { name: 'Only genes every file measured' }).check();
    await expect.poll(() => plan.textContent(), { timeout: 60_000 }).toContain('inner join');
    expect(await plan.textContent()).toContain(`${shared.length} genes`);
    await screenshot(page, 'formats-01-concat-inner');

    await page.getByLabel('New store key').fill('tenx-shared');
    await page.getByRole('button', { name: 'Create store' }).click();
    expect(await waitForJobEnd(page.getByRole('region', { name: 'Concatenation settings' }))).toBe('completed');
    const cells = genes.tenx_cells + genes.mtx_cells;
    expect(await page.getByTestId('concat-done').textContent()).toBe(`Store tenx-shared created: ${cells} cells × ${shared.length} genes. Open it →`);
    const listed = await cli<{ stores: { key: string; n_observations: number; n_vars: number }[] }>(['list']);
    expect(listed.stores.map((s) => [s.key, s.n_observations, s.n_vars])).toEqual([['tenx-shared', cells, shared.length]]);
  }, STEP_MS);
});
