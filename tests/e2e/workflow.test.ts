// The seed workflow, end to end, through the browser: import three files into a collection,
// review the concatenation plan, create the store, filter and export a slice, append a
// fourth file, compute a PCA and plot it (coloured by the gene only the fourth file has),
// list versions, open the lineage and a run's details. Bad input along the way: a file
// that is not HDF5, a filter with a typo, an append that fails preflight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runPythonJson } from '../integration/helpers/python';
import { cellarAsync } from '../integration/helpers/cellar';
import { launchBrowser, screenshot, serve, waitForJobEnd, type Served } from './helpers';
import { MAKE_DATA, type SeedExpectations } from './seed-data';

// Each step waits for real jobs (workers reading h5ad, writing the store) on a shared machine.
const STEP_MS = 150_000;
const FILTER = 'cell_type == "B" and n_counts > 90';

let served: Served;
let browser: Browser;
let page: Page;
let home: string;
let data: string;
let expected: SeedExpectations;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cellar-e2e-home-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-e2e-data-'));
  expected = runPythonJson(MAKE_DATA, [data]);
  served = await serve(home);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

const file = (name: string) => join(data, name);
/** The store's versions as `cellar versions --json` prints them (the CLI and the server share the home). */
async function cliVersions(store: string): Promise<{ version: number; run: { transform: string } | null }[]> {
  const r = await cellarAsync(['versions', '--store', store, '--json'], { home });
  expect(r.code, r.stderr).toBe(0);
  return r.json as { version: number; run: { transform: string } | null }[];
}
const nav = (screen: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: screen, exact: true }).click();

describe('the seed workflow in the browser', () => {
  it('shows an empty library and rejects a dropped file that is not HDF5', async () => {
    await page.goto(served.url);
    await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor();
    await page.getByText('No stores yet — concatenate a collection to create one.').waitFor();
    await screenshot(page, '01-library-empty');

    // Dropped on the Library like a user dragging it from a file manager.
    const dropped = await page.evaluateHandle((text) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], 'notes.txt', { type: 'text/plain' }));
      return transfer;
    }, readFileSync(file('notes.txt'), 'utf8'));
    await page.getByRole('region', { name: /^Library: drop/ }).dispatchEvent('drop', { dataTransfer: dropped });
    const error = page.getByTestId('pending-file-error');
    await error.waitFor({ timeout: 30_000 });
    expect(await error.textContent()).toBe('notes.txt is not an HDF5 file.');
    await expect.poll(() => page.getByRole('button', { name: /^Import/ }).isDisabled()).toBe(true);
    await screenshot(page, '02-library-not-hdf5');
    await page.getByRole('button', { name: 'Remove notes.txt' }).click();
  }, STEP_MS);

  it('imports three files into a collection', async () => {
    await page.getByTestId('file-input').first().setInputFiles([file('pbmc1.h5ad'), file('pbmc2.h5ad'), file('pbmc3.h5ad')]);
    await expect.poll(() => page.locator('[data-testid=pending-file][data-status=ok]').count(), { timeout: 60_000 }).toBe(3);
    expect(await page.getByTestId('pending-file').nth(0).textContent()).toContain('120 cells × 60 genes');

    // Double-clicking a pending file opens it in the inspector.
    await page.getByTestId('pending-file').nth(2).dblclick();
    await page.getByTestId('inspect-facts').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('inspect-facts').textContent()).toContain('80 cells × 60 genes');
    expect(await page.getByRole('table', { name: 'obs columns' }).textContent()).toContain('only_here');
    await screenshot(page, '03-inspector');
    await page.getByRole('button', { name: 'Back to the import list' }).click();

    await page.getByLabel('Collection', { exact: true }).fill('pbmc');
    await page.getByRole('button', { name: 'Import 3 files' }).click();
    const importPanel = page.getByRole('region', { name: 'Import files' });
    expect(await waitForJobEnd(importPanel)).toBe('completed');
    await page.getByTestId('collection').filter({ hasText: 'pbmc' }).waitFor();
    await expect.poll(() => page.getByTestId('collection-members').first().textContent()).toBe('pbmc1.h5ad, pbmc2.h5ad, pbmc3.h5ad');
    expect(await page.getByTestId('artifact').count()).toBe(3);
    await screenshot(page, '04-library-imported');
  }, STEP_MS);

  it('reviews the concatenation plan and creates the store', async () => {
    await page.getByTestId('collection').filter({ hasText: 'pbmc' }).getByRole('link', { name: 'Concatenate…' }).click();
    const plan = page.getByTestId('plan');
    await plan.waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('plan-dropped').textContent()).toContain('obs/only_here');
    expect(await page.getByTestId('plan-kept').textContent()).toContain('obs/cell_type');
    expect(await page.getByTestId('plan-problems').textContent()).toContain('No problems found.');
    expect(await plan.textContent()).toContain(`${expected.n_obs} cells`);
    expect(await page.getByTestId('space-check').textContent()).toMatch(/Space needed: about .+ · free: .+/);
    await page.getByLabel('New store key').fill('atlas');
    await screenshot(page, '05-concat-plan');

    await page.getByRole('button', { name: 'Create store' }).click();
    const settings = page.getByRole('region', { name: 'Concatenation settings' });
    await settings.getByTestId('job').waitFor();
    await screenshot(page, '06-concat-job-started');
    expect(await waitForJobEnd(settings)).toBe('completed');
    await page.getByTestId('concat-done').waitFor();
    expect(await page.getByTestId('concat-done').textContent()).toBe(`Store atlas created: ${expected.n_obs} cells × ${expected.n_vars} genes. Open it →`);
    await screenshot(page, '07-concat-done');
  }, STEP_MS);

  it('filters cells (a typo shows the inline error) and exports the slice', async () => {
    await page.getByTestId('concat-done').getByRole('link', { name: /Open it/ }).click();
    await page.getByTestId('store-nobs').waitFor();
    expect(await page.getByTestId('store-nobs').textContent()).toBe(String(expected.n_obs));
    await page.getByTestId('obs-table-row').first().waitFor();
    // Only the visible rows are in the page, not all 300.
    const rendered = await page.getByTestId('obs-table-row').count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(60);
    // Scrolling to the end fetches the window that holds the last cells.
    await page.getByRole('table', { name: 'Cells' }).evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await page.getByTestId('obs-table-row').filter({ hasText: 'pbmc3-c79' }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('obs-table-row').filter({ hasText: 'pbmc1-c0' }).count()).toBe(0);

    await page.getByTestId('obs-filter').fill('cell_typo == "B"');
    await page.getByTestId('obs-filter').press('Enter');
    const filterError = page.locator('.filter-box').first().locator('pre');
    await filterError.waitFor();
    // The message names the column, suggests the near miss, and a caret points at it.
    const [message, echoed, caret] = ((await filterError.textContent()) ?? '').split('\n');
    expect(message).toBe('Unknown column "cell_typo" in filter (did you mean "cell_type"?); available: cell_type, n_counts, donor, obs_id, dataset, cellar_run_uid.');
    expect(echoed!.trim()).toBe('cell_typo == "B"');
    expect(caret!.indexOf('^')).toBe(echoed!.indexOf('cell_typo'));
    // The rows shown before the filter failed are cleared, not left to pass for its answer.
    expect(await page.getByTestId('obs-count').textContent()).toBe('No cells shown: the filter has an error');
    expect(await page.getByTestId('obs-table-row').count()).toBe(0);
    await screenshot(page, '08-store-filter-typo');

    await page.getByTestId('obs-filter').fill(FILTER);
    await page.getByTestId('obs-filter').press('Enter');
    await expect.poll(() => page.getByTestId('obs-count').textContent()).toBe(`${expected.filtered} of ${expected.n_obs} cells match`);
    expect(await filterError.count()).toBe(0);
    await expect.poll(() => page.locator('.vt-footer').first().textContent()).toBe(`${expected.filtered} rows`);

    await page.getByRole('button', { name: 'Export .h5ad' }).click();
    const link = page.getByTestId('download-link');
    await link.waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('export-done').textContent()).toMatch(new RegExp(`^Exported ${expected.filtered} cells × ${expected.n_vars} genes\\. Download \\w+-atlas-slice\\.h5ad$`));
    await screenshot(page, '09-store-filtered-export');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const saved = join(data, 'slice.h5ad');
    await download.saveAs(saved);
    const slice = runPythonJson<{ n_obs: number; types: string[] }>(
      `import sys, json, anndata as ad\na = ad.read_h5ad(sys.argv[1])\nprint(json.dumps({'n_obs': a.n_obs, 'types': sorted(set(a.obs.cell_type.astype(str)))}))`,
      [saved],
    );
    expect(slice).toEqual({ n_obs: expected.filtered, types: ['B'] });
  }, STEP_MS);

  it('refuses an append whose preflight fails, then appends the fourth file', async () => {
    await nav('Append');
    await page.getByRole('heading', { name: 'Append', level: 1 }).waitFor();
    await page.getByTestId('file-input').setInputFiles(file('clash.h5ad'));
    await page.locator('[data-testid=pending-file][data-status=ok]').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Check' }).click();
    const problems = page.getByTestId('plan-problem');
    await problems.first().waitFor({ timeout: 60_000 });
    expect(await problems.allTextContents()).toEqual(['obs column "n_counts" in clash.h5ad is string but the store has float64.']);
    expect(await page.getByText('Append stays disabled until the problems are fixed.').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Append', exact: true }).isDisabled()).toBe(true);
    // A failed preflight writes nothing.
    expect((await cliVersions('atlas')).map((v) => v.version)).toEqual([1]);
    await screenshot(page, '10-append-preflight-problems');

    await page.getByRole('button', { name: 'Remove clash.h5ad' }).click();
    await page.getByTestId('file-input').setInputFiles(file('pbmc4.h5ad'));
    await page.locator('[data-testid=pending-file][data-status=ok]').waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: 'Append', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByTestId('plan-problems').getByText('No problems found.').waitFor({ timeout: 60_000 });
    const added = (await page.getByTestId('plan-added').textContent()) ?? '';
    expect(added).toContain('Mono');
    expect(added).toContain('NEWGENE');
    await page.getByRole('button', { name: 'Append', exact: true }).click();
    const appendCard = page.getByRole('region', { name: 'Append files' });
    expect(await waitForJobEnd(appendCard)).toBe('completed');
    await page.getByTestId('append-done').waitFor();
    expect(await page.getByTestId('append-done').textContent()).toBe(`Appended 60 cells and 1 new gene: atlas version 2 has ${expected.n_obs + 60} cells × ${expected.n_vars + 1} genes. Open the new version →`);
    await screenshot(page, '11-append-done');
  }, STEP_MS);

  it('computes a two-component PCA and plots it colored by cell type and by the new gene', async () => {
    await nav('Embeddings');
    await page.getByText('No embeddings in this store yet — compute a PCA above.').waitFor({ timeout: 30_000 });
    await page.getByLabel('Components').fill('2');
    await page.getByRole('button', { name: 'Compute PCA' }).click();
    const form = page.getByRole('form', { name: 'Compute PCA' });
    expect(await waitForJobEnd(form)).toBe('completed');
    expect(await page.getByTestId('pca-done').textContent()).toMatch(new RegExp(`^Saved pca \\(${expected.n_obs + 60} cells × 2 components\\) as version 3\\. Variance explained: PC1 \\d+\\.\\d%, PC2 \\d+\\.\\d%\\.$`));
    const canvas = page.getByTestId('scatter').locator('canvas');
    await canvas.waitFor({ timeout: 30_000 });
    await page.getByLabel('Color by').selectOption('obs:cell_type');
    const legend = page.getByRole('complementary', { name: 'Legend' });
    await legend.waitFor({ timeout: 30_000 });
    expect(await legend.textContent()).toContain('Mono');
    const box = await canvas.boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(200);
    expect(box?.height ?? 0).toBeGreaterThan(200);
    expect(await canvas.getAttribute('aria-label')).toContain(`${expected.n_obs + 60} points`);
    await screenshot(page, '12-embeddings-pca');

    // A gene's expression colors the points on a continuous scale; an unknown gene is named.
    await page.getByLabel('…or a gene').fill('NOSUCHGENE');
    await page.getByRole('button', { name: 'Color', exact: true }).click();
    const unknownGene = page.getByRole('alert').filter({ hasText: 'NOSUCHGENE' });
    await unknownGene.waitFor({ timeout: 30_000 });
    expect(await unknownGene.textContent()).toBe('There is no gene NOSUCHGENE in store atlas as a var id or a gene symbol (var column symbol).');

    // NEWGENE came with the appended file: the first three files' cells read 0 there.
    await page.getByLabel('…or a gene').fill('NEWGENE');
    await page.getByRole('button', { name: 'Color', exact: true }).click();
    await legend.locator('.cellar-colorbar').waitFor({ timeout: 30_000 });
    // Colours are log-normalised counts (per 10,000, log1p), as the colour bar says; the table below keeps the stored counts.
    const max = expected.newgene.lognorm_max;
    const legendNumber = (v: number) => String(Number(v.toPrecision(3)));
    expect(await canvas.getAttribute('aria-label')).toBe(`Scatter plot of ${expected.n_obs + 60} points, coloured from 0 to ${legendNumber(max)}`);
    expect(await legend.locator('.cellar-colorbar-ticks span').allTextContents()).toEqual([legendNumber(max), legendNumber(max / 2), '0']);
    // The first three files never measured NEWGENE: their cells are "not measured", not 0.
    expect(await legend.locator('.cellar-legend-note').textContent()).toBe(`NEWGENE: log1p of counts per 10,000. pbmc1.h5ad, pbmc2.h5ad, pbmc3.h5ad did not measure newgene (NEWGENE): ${expected.n_obs} cells are "not measured" (NaN), not 0.`);
    const rows = page.getByTestId('gene-by-dataset').getByTestId('gene-dataset-row');
    await rows.first().waitFor();
    const cells = await rows.evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)));
    expect(cells).toEqual([
      ['pbmc1.h5ad', '120', '0', '0'],
      ['pbmc2.h5ad', '100', '0', '0'],
      ['pbmc3.h5ad', '80', '0', '0'],
      ['pbmc4.h5ad', '60', String(expected.newgene.expressing), String(expected.newgene.max)],
    ]);
    expect(await page.getByTestId('gene-by-dataset').locator('caption').textContent()).toBe('NEWGENE by dataset');
    await screenshot(page, '13-embeddings-gene');
  }, STEP_MS);

  it('lists three versions and diffs the first and the last', async () => {
    await nav('Versions');
    const rows = page.getByTestId('version-row');
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(3);
    expect(await rows.first().textContent()).toContain('latest');
    expect(await rows.allTextContents()).toEqual([expect.stringContaining('embed'), expect.stringContaining('append'), expect.stringContaining('concatenate')]);
    await page.getByLabel('Select version 1 for diff').check();
    await page.getByLabel('Select version 3 for diff').check();
    await page.getByRole('button', { name: 'Diff selected' }).click();
    const diff = page.getByTestId('diff');
    await diff.waitFor({ timeout: 30_000 });
    const diffText = (await diff.textContent()) ?? '';
    expect(diffText).toContain('version 1 → version 3');
    expect(diffText).toContain('+60');
    expect(diffText).toContain('NEWGENE');
    expect(diffText).toContain('pca');
    await screenshot(page, '14-versions-diff');
  }, STEP_MS);

  it('shows the lineage graph and opens a run and a store version from it', async () => {
    await nav('Lineage');
    const graph = page.getByTestId('lineage-canvas');
    await graph.waitFor({ timeout: 30_000 });
    await page.locator('[data-testid=lineage-canvas][data-ready=true]').waitFor();
    const graphBox = await graph.boundingBox();
    expect(graphBox?.height ?? 0).toBeGreaterThan(200);
    const nodes = page.getByRole('navigation', { name: /Lineage items/ }).getByRole('button');
    expect(await nodes.count()).toBeGreaterThanOrEqual(8);

    // A run node opens what the registry recorded about the run.
    await nodes.filter({ hasText: /^concatenate/ }).first().click();
    const details = page.getByTestId('run-details');
    await details.waitFor({ timeout: 30_000 });
    expect(await details.getByRole('heading').first().textContent()).toBe('Run: concatenate completed');
    expect(await details.getByTestId('run-inputs').getByRole('button').allTextContents()).toEqual(['pbmc (collection)', 'pbmc1.h5ad', 'pbmc2.h5ad', 'pbmc3.h5ad']);
    expect(await details.getByTestId('run-outputs').getByRole('button').allTextContents()).toEqual(['atlas v1']);
    const params = await details.getByTestId('run-params').evaluate((dl) => Object.fromEntries(Array.from(dl.querySelectorAll('div'), (d) => [d.querySelector('dt')!.textContent, d.querySelector('dd')!.textContent])));
    expect(params).toEqual({ collection: 'pbmc', store: 'atlas', measurement: 'RNA', makeUnique: 'false', join: 'outer', matchGenes: 'exact', symbolColumn: 'symbol' });
    expect(await details.getByTestId('run-duration').textContent()).toMatch(/^(\d+ ms|\d+(\.\d)? s)$/);
    expect(await details.textContent()).toContain('Transformconcatenate version 1');
    await screenshot(page, '15-lineage-run');

    // Its output opens that exact store version.
    await details.getByTestId('run-outputs').getByRole('button', { name: 'atlas v1' }).click();
    await page.getByTestId('read-only').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('store-nobs').textContent()).toBe(String(expected.n_obs));
    await screenshot(page, '16-store-version-1-read-only');
  }, STEP_MS);

  it('restores version 1 after a confirmation', async () => {
    await nav('Versions');
    await expect.poll(() => page.getByTestId('version-row').count(), { timeout: 30_000 }).toBe(3);
    await page.locator('[data-testid=version-row][data-version="1"]').getByRole('button', { name: 'Restore…' }).click();
    const confirm = page.getByRole('alertdialog');
    expect(await confirm.textContent()).toContain('Restore version 1?');
    await confirm.getByRole('button', { name: 'Restore version 1' }).click();
    await page.getByText('Version 1 restored as version 4, now the latest.').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.getByTestId('version-row').count(), { timeout: 30_000 }).toBe(4);
    expect(await page.getByTestId('version-row').first().textContent()).toContain('restore');
    await screenshot(page, '17-versions-restored');
  }, STEP_MS);

  it('re-attaches to the jobs after a reload', async () => {
    await page.reload();
    const jobs = page.getByRole('region', { name: 'Jobs' }).getByTestId('job');
    await jobs.first().waitFor({ timeout: 30_000 });
    expect(await jobs.count()).toBeGreaterThanOrEqual(5);
    expect(await page.getByRole('region', { name: 'Jobs' }).locator('[data-job-kind=embed][data-job-state=completed]').count()).toBe(1);
  }, STEP_MS);
});
