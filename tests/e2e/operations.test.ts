// What the CLI can do, done from the page served by `cellar serve` in Chromium: inspect an
// imported file and open one on the inspector, remove a file from a collection, rename a
// store, annotate from a CSV (a table with unknown ids is refused before writing; a good
// one writes a version), verify and repair, compact with its confirmation, append a file
// from the Library, export and download the file again from the Library's list of exports,
// open a finished job's result from the jobs panel, and delete with the "made from"
// refusal and an explicit "delete anyway". The CLI, sharing the home, confirms each step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runPythonJson } from '../integration/helpers/python';
import { cellarAsync } from '../integration/helpers/cellar';
import { launchBrowser, screenshot, serve, waitForJobEnd, type Served } from './helpers';
import { MAKE_DATA, type SeedExpectations } from './seed-data';

const STEP_MS = 150_000;

let served: Served;
let browser: Browser;
let page: Page;
let home: string;
let data: string;
let expected: SeedExpectations;

async function cli<T>(args: string[]): Promise<T> {
  const r = await cellarAsync([...args, '--json'], { home });
  expect(r.code, r.stderr).toBe(0);
  return r.json as T;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cellar-e2e-ops-home-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-e2e-ops-data-'));
  expected = runPythonJson(MAKE_DATA, [data]);
  await cli(['import', join(data, 'pbmc1.h5ad'), join(data, 'pbmc2.h5ad'), join(data, 'pbmc3.h5ad'), '--collection', 'pbmc']);
  await cli(['import', join(data, 'pbmc4.h5ad'), '--collection', 'later']);
  await cli(['concat', '--collection', 'pbmc', '--store', 'atlas']);
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

const nav = (screen: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: screen, exact: true }).click();
const row = (testId: string, key: string) => page.getByTestId(testId).filter({ hasText: key });

describe('every CLI operation from the page', () => {
  it('opens an imported file in the inspector, and opens another file from the inspector itself', async () => {
    await page.goto(served.url);
    await row('artifact', 'pbmc2.h5ad').getByRole('button', { name: 'Inspect pbmc2.h5ad' }).click();
    const facts = page.getByTestId('inspect-facts');
    await facts.waitFor({ timeout: 30_000 });
    expect(await facts.textContent()).toContain('100 cells × 57 genes');
    expect(await page.locator('.screen-lede').textContent()).toBe('pbmc2.h5ad — imported in the Library as pbmc2.h5ad');
    await screenshot(page, '30-inspector-imported-file');

    // From the sidebar, with no file: open one through the upload input.
    await page.goto(`${served.url.split('?')[0]}#/inspect`);
    await page.getByText('No file open — open or drop a dataset file').waitFor();
    await page.getByTestId('inspect-file-input').setInputFiles(join(data, 'clash.h5ad'));
    await expect.poll(async () => (await page.getByTestId('inspect-facts').count()) && (await page.getByTestId('inspect-facts').textContent()), { timeout: 30_000 }).toContain('40 cells × 60 genes');
    expect(await page.locator('.screen-lede code').textContent()).toBe('clash.h5ad');
    await screenshot(page, '31-inspector-opened-file');
  }, STEP_MS);

  it('removes a file from a collection; the file stays in the Library', async () => {
    await nav('Library');
    const collection = row('collection', 'later');
    await collection.getByRole('button', { name: 'Remove pbmc4.h5ad from later' }).click();
    await expect.poll(() => collection.getByTestId('collection-members').textContent(), { timeout: 30_000 }).toBe('empty');
    expect(await row('artifact', 'pbmc4.h5ad').count()).toBe(1);
    const listed = await cli<{ collections: { key: string; n_artifacts: number }[] }>(['list']);
    expect(listed.collections.find((c) => c.key === 'later')!.n_artifacts).toBe(0);
  }, STEP_MS);

  it('renames the store, and refuses a key already taken with the registry’s message', async () => {
    const store = row('store', 'atlas');
    await store.getByRole('button', { name: 'Rename atlas' }).click();
    await store.getByLabel('New key for store atlas').fill('pbmc');
    await store.getByRole('button', { name: 'Rename', exact: true }).click();
    await expect.poll(() => store.getByTestId('error').textContent(), { timeout: 30_000 }).toContain('A collection named "pbmc" already exists');
    await screenshot(page, '32-rename-refused');
    await store.getByLabel('New key for store atlas').fill('pbmc_atlas');
    await store.getByRole('button', { name: 'Rename', exact: true }).click();
    await expect.poll(() => page.getByTestId('store-key').allTextContents(), { timeout: 30_000 }).toEqual(['pbmc_atlas']);
    expect((await cli<{ stores: { key: string }[] }>(['list'])).stores.map((s) => s.key)).toEqual(['pbmc_atlas']);
  }, STEP_MS);

  it('previews an annotation table, refuses one with unknown ids, and writes a good one as a version', async () => {
    const bad = join(data, 'labels-bad.csv');
    writeFileSync(bad, 'obs_id,label\npbmc1-c0,T helper\npbmc1-c1,B naive\nnot-a-cell,NK\n');
    const good = join(data, 'labels.csv');
    writeFileSync(good, 'obs_id,label,score\npbmc1-c0,T helper,0.5\npbmc1-c1,B naive,1.25\npbmc2-c3,NK bright,2\n');
    await row('store', 'pbmc_atlas').getByRole('button', { name: 'Open' }).click();
    const panel = page.getByTestId('annotate');
    await panel.waitFor({ timeout: 30_000 });
    await page.getByTestId('annotate-file-input').setInputFiles(bad);
    await page.getByTestId('annotate-preview').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('annotate-match').textContent()).toBe(
      `2 of 3 rows match cells of pbmc_atlas v1; ${expected.n_obs - 2} of its ${expected.n_obs} cells have no row and get NA. 1 row names a cell the store does not have.`,
    );
    expect(await page.getByTestId('annotate-problems').textContent()).toContain('1 obs_id in labels-bad.csv is not in the store pbmc_atlas.');
    expect(await page.getByTestId('annotate-problems').textContent()).toContain('Unknown ids: not-a-cell');
    expect(await panel.getByRole('button', { name: 'Write the annotation' }).isDisabled()).toBe(true);
    await screenshot(page, '33-annotate-refused');

    await page.getByTestId('annotate-file-input').setInputFiles(good);
    await expect.poll(() => page.getByTestId('annotate-match').textContent(), { timeout: 30_000 }).toMatch(/^3 of 3 rows match/);
    expect(await page.getByTestId('annotate-column').allTextContents()).toEqual(['labelcategoryT helper, B naive, NK brightnew column', 'scorefloat640.5, 1.25, 2new column']);
    await panel.getByRole('button', { name: 'Write the annotation' }).click();
    expect(await waitForJobEnd(panel)).toBe('completed');
    expect(await page.getByTestId('annotate-done').textContent()).toBe('Annotated 3 cells: label, score in version 2.');
    await screenshot(page, '34-annotate-written');
    const versions = await cli<{ version: number; run: { transform: string } }[]>(['versions', '--store', 'pbmc_atlas']);
    expect(versions.map((v) => [v.version, v.run.transform])).toEqual([
      [2, 'annotate'],
      [1, 'concatenate'],
    ]);
  }, STEP_MS);

  it('verifies the store, reports a leftover file, and repairs it', async () => {
    const panel = page.getByTestId('verify');
    await panel.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect.poll(() => panel.getByTestId('verify-verdict').count(), { timeout: 60_000 }).toBe(1);
    expect(await panel.getByTestId('verify-verdict').textContent()).toBe('pbmc_atlas: 2 versions checked — every file matches its checksum and its manifest.');
    const storeDir = join(home, 'stores', readdirSync(join(home, 'stores'))[0]!);
    writeFileSync(join(storeDir, 'data', 'leftover.tmp'), 'x');
    await panel.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect.poll(async () => ((await panel.getByTestId('verify-garbage').count()) ? await panel.getByTestId('verify-garbage').textContent() : ''), { timeout: 60_000 }).toBe(
      '1 leftover file from an interrupted write: data/leftover.tmp. “Verify and repair” removes it.',
    );
    await screenshot(page, '35-verify-leftover');
    await panel.getByRole('button', { name: 'Verify and repair' }).click();
    await expect.poll(async () => ((await panel.getByTestId('verify-removed').count()) ? await panel.getByTestId('verify-removed').textContent() : ''), { timeout: 60_000 }).toBe('Removed 1 leftover file: data/leftover.tmp.');
    expect(readdirSync(join(storeDir, 'data'))).not.toContain('leftover.tmp');
  }, STEP_MS);

  it('appends a file from the Library, then compacts after a confirmation that shows the space', async () => {
    await nav('Append');
    await page.getByLabel('From the Library').selectOption({ label: 'pbmc4.h5ad (60 cells)' });
    await expect.poll(() => page.locator('[data-testid=pending-file][data-status=ok]').count(), { timeout: 30_000 }).toBe(1);
    // The annotation's columns are not in pbmc4.h5ad: they are filled with NA.
    await page.getByLabel(/^Fill missing columns/).check();
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByRole('button', { name: 'Append' }).and(page.locator(':not([disabled])')).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Append' }).click();
    const appendCard = page.getByRole('region', { name: 'Append files' });
    expect(await waitForJobEnd(appendCard)).toBe('completed');
    expect(await page.getByTestId('append-done').textContent()).toContain('pbmc_atlas version 3');
    // No second copy: the Library still holds four files.
    expect((await cli<{ artifacts: unknown[] }>(['list'])).artifacts).toHaveLength(4);

    await nav('Store');
    const compact = page.getByTestId('compact');
    await compact.getByRole('button', { name: 'Compact…' }).click();
    await expect.poll(() => compact.getByTestId('compact-confirm').textContent(), { timeout: 30_000 }).toMatch(/^Compacting pbmc_atlas keeps version 3 only: the 2 older versions can no longer be opened or restored\. The store takes [\d.]+ (KiB|MiB)/);
    await compact.getByTestId('space-check').waitFor({ timeout: 30_000 });
    expect(await compact.getByTestId('space-check').textContent()).toMatch(/^Space needed: about .+ · free: .+/);
    await screenshot(page, '36-compact-confirm');
    await compact.getByRole('button', { name: 'Compact and drop older versions' }).click();
    expect(await waitForJobEnd(compact)).toBe('completed');
    expect(await compact.getByTestId('compact-done').textContent()).toMatch(/^Compacted pbmc_atlas: version 4 kept, 3 older versions dropped; .+ → .+\.$/);
    expect((await cli<{ version: number }[]>(['versions', '--store', 'pbmc_atlas'])).map((v) => v.version)).toEqual([4]);
  }, STEP_MS);

  it('exports, leaves the Store screen, and downloads the file again from the list of exports', async () => {
    await page.getByRole('button', { name: 'Export CSV (cells)' }).click();
    await page.getByTestId('export-done').waitFor({ timeout: 60_000 });
    await nav('Embeddings');
    await nav('Library');
    const exportRow = page.getByTestId('export-row').first();
    await exportRow.waitFor({ timeout: 30_000 });
    expect(await exportRow.locator('code').textContent()).toBe('pbmc_atlas-slice.csv');
    const [download] = await Promise.all([page.waitForEvent('download'), exportRow.getByRole('button', { name: 'Download' }).click()]);
    const saved = join(data, 'again.csv');
    await download.saveAs(saved);
    expect(readFileSync(saved, 'utf8').trim().split('\n')).toHaveLength(expected.n_obs + 60 + 1);
    await page.getByTestId('exports-table').scrollIntoViewIfNeeded();
    await screenshot(page, '37-library-exports');

    // A finished job's card opens its result: the compaction opens the store at its version.
    const jobs = page.getByRole('list', { name: 'Finished jobs' });
    await jobs.getByRole('link', { name: /^Compact pbmc_atlas: Open pbmc_atlas v4$/ }).click();
    await expect.poll(() => page.url()).toContain('#/store?store=pbmc_atlas&version=4');
    await page.getByTestId('store-facts').waitFor({ timeout: 30_000 });
    await screenshot(page, '38-job-card-opened-store');
  }, STEP_MS);

  it('refuses to delete a file something was made from, deletes it when confirmed, and keeps the tombstone', async () => {
    await nav('Library');
    const file = row('artifact', 'pbmc1.h5ad');
    await file.getByRole('button', { name: 'Delete pbmc1.h5ad' }).click();
    await file.getByRole('button', { name: 'Delete', exact: true }).click();
    const refusal = file.getByTestId('error');
    await refusal.waitFor({ timeout: 30_000 });
    expect(await refusal.textContent()).toMatch(/^Cannot delete artifact "pbmc1\.h5ad".*:/);
    expect(await refusal.textContent()).not.toContain('--force');
    expect(await file.textContent()).toContain('Deleting it anyway keeps them, and lineage shows pbmc1.h5ad as deleted.');
    await screenshot(page, '39-delete-refused');
    await file.getByRole('button', { name: 'Delete anyway' }).click();
    await expect.poll(() => row('artifact', 'pbmc1.h5ad').count(), { timeout: 30_000 }).toBe(0);
    expect(await row('collection', 'pbmc').getByTestId('collection-members').textContent()).toContain('pbmc1.h5ad (deleted)');
    const lineage = await cli<{ nodes: { label: string }[] }>(['lineage', 'pbmc_atlas']);
    expect(lineage.nodes.map((n) => n.label)).toContain('pbmc1.h5ad (deleted)');

    // A store nothing was made from goes at the first confirmation.
    const store = row('store', 'pbmc_atlas');
    await store.getByRole('button', { name: 'Delete pbmc_atlas' }).click();
    await store.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByText('No stores yet — concatenate a collection to create one.').waitFor({ timeout: 30_000 });
    expect((await cli<{ stores: unknown[] }>(['list'])).stores).toEqual([]);
    await screenshot(page, '40-library-after-deletes');
  }, STEP_MS);
});
