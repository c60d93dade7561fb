// The screens that answer the next question, checked in Chromium at the app's minimum window
// size (1024×700): the inspector's category counts, first cells and X hint; the Store's sorted
// columns, column summaries, hidden internal columns and filter help; and every screen laid
// out without page-wide sideways scrolling, each saved as a screenshot (test-output/screenshots).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runPythonJson } from '../integration/helpers/python';
import { cellarAsync } from '../integration/helpers/cellar';
import { launchBrowser, screenshot, serve, type Served } from './helpers';
import { MAKE_DATA } from './seed-data';

const STEP_MS = 150_000;
const VIEWPORT = { width: 1024, height: 700 };

// What anndata reads from the same files: the numbers the screens must show.
const EXPECTED = `
import sys, json
import numpy as np, pandas as pd, anndata as ad
d = sys.argv[1]
a2 = ad.read_h5ad(f'{d}/pbmc2.h5ad')
atlas = pd.concat([ad.read_h5ad(f'{d}/pbmc{i}.h5ad').obs for i in (1, 2, 3)])
counts = lambda s: {str(k): int(v) for k, v in s.astype(str).value_counts().items()}
n = atlas.n_counts.to_numpy()
print(json.dumps({
  'pbmc2': {'cell_type': counts(a2.obs.cell_type), 'first_ids': list(a2.obs_names[:20]), 'first_n_counts': float(a2.obs.n_counts.iloc[0]),
            'x_min': float(a2.X.data.min()), 'x_max': float(a2.X.data.max()), 'x_nnz': int(a2.X.nnz)},
  'atlas': {'cell_type': counts(atlas.cell_type), 'n_min': float(n.min()), 'n_median': float(np.median(n)), 'n_max': float(n.max()),
            'min_id': str(atlas.index[np.argmin(n)]), 'max_id': str(atlas.index[np.argmax(n)]), 'n_obs': int(len(atlas))},
}))
`;

interface Expected {
  pbmc2: { cell_type: Record<string, number>; first_ids: string[]; first_n_counts: number; x_min: number; x_max: number; x_nnz: number };
  atlas: { cell_type: Record<string, number>; n_min: number; n_median: number; n_max: number; min_id: string; max_id: string; n_obs: number };
}

let served: Served;
let browser: Browser;
let page: Page;
let home: string;
let data: string;
let expected: Expected;

async function cli(args: string[]): Promise<void> {
  const r = await cellarAsync([...args, '--json'], { home });
  expect(r.code, r.stderr).toBe(0);
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cellar-e2e-screens-home-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-e2e-screens-data-'));
  runPythonJson(MAKE_DATA, [data]);
  expected = runPythonJson<Expected>(EXPECTED, [data]);
  await cli(['import', join(data, 'pbmc1.h5ad'), join(data, 'pbmc2.h5ad'), join(data, 'pbmc3.h5ad'), '--collection', 'pbmc']);
  await cli(['concat', '--collection', 'pbmc', '--store', 'atlas']);
  await cli(['embed', '--store', 'atlas', '--pca', '5', '--seed', '1']);
  served = await serve(home);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: VIEWPORT });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

const nav = (screen: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: screen, exact: true }).click();
const cellsTable = () => page.getByRole('table', { name: 'Cells' });
const headerNames = async () => (await cellsTable().locator('[role=columnheader] .vt-name').allTextContents()).map((t) => t.trim());
const firstRowCells = () => page.getByTestId('obs-table-row').first().locator('[role=cell]').allTextContents();

/** What reaches past the window's right edge: the page, the main panel, or an element in it (by its text). */
async function pageOverflow(): Promise<string[]> {
  return page.evaluate(() => {
    const main = document.querySelector('main')!;
    const out: string[] = [];
    if (document.documentElement.scrollWidth > document.documentElement.clientWidth) out.push(`page is ${document.documentElement.scrollWidth}px wide`);
    if (main.scrollWidth > main.clientWidth) out.push(`main is ${main.scrollWidth}px wide`);
    const right = main.getBoundingClientRect().right;
    for (const el of Array.from(main.querySelectorAll<HTMLElement>('button, input, select, a, table, h1, h2, p'))) {
      // Inside a sideways-scrolling table, being past the edge is the point.
      if (el.closest('.vt-scroller, .table-scroll')) continue;
      const box = el.getBoundingClientRect();
      if (box.width > 0 && box.right > right + 1) out.push(`${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 40)}" ends at ${Math.round(box.right)}px`);
    }
    return out;
  });
}

async function expectNoPageOverflow(): Promise<void> {
  expect(await pageOverflow()).toEqual([]);
}

describe('the File inspector answers what a file holds', () => {
  it('counts each category, previews the first cells and says X holds counts', async () => {
    await page.goto(served.url);
    await page.getByTestId('artifact').filter({ hasText: 'pbmc2.h5ad' }).getByRole('button', { name: 'Inspect pbmc2.h5ad' }).click();
    const counts = page.getByTestId('category-counts').and(page.locator('[data-column=cell_type]'));
    await counts.waitFor({ timeout: 30_000 });
    const rows = await counts.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')));
    expect(rows).toEqual(Object.entries(expected.pbmc2.cell_type).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, String(v)]));

    const xValues = page.getByTestId('x-values');
    expect(await xValues.getAttribute('data-kind')).toBe('counts');
    // The engine samples up to 10,000 stored values: all of them in a file this small.
    const sampled = Math.min(expected.pbmc2.x_nnz, 10_000).toLocaleString('en-US');
    expect(await xValues.textContent()).toBe(`integer counts (${sampled} stored values sampled, ${expected.pbmc2.x_min} to ${expected.pbmc2.x_max})`);

    const preview = page.getByTestId('obs-preview');
    expect(await preview.locator('tbody th').allTextContents()).toEqual(expected.pbmc2.first_ids);
    expect(await preview.locator('thead th').allTextContents()).toEqual(['obs index', 'cell_type', 'n_counts', 'donor']);
    expect(Number(await preview.locator('tbody tr').first().locator('td').nth(1).textContent())).toBeCloseTo(expected.pbmc2.first_n_counts, 3);
    await expectNoPageOverflow();
    await screenshot(page, '60-inspector-values-1024');
  }, STEP_MS);
});

describe('the Store tables sort, summarise and hide what is internal', () => {
  it('hides soma_joinid and cellar_run_uid until asked, and keeps the id column in view', async () => {
    await nav('Store');
    await page.getByTestId('obs-table-row').first().waitFor({ timeout: 30_000 });
    expect(await headerNames()).toEqual(['obs_id', 'cell_type', 'n_counts', 'donor', 'dataset']);
    await page.getByTestId('show-internal').check();
    expect(await headerNames()).toEqual(['obs_id', 'soma_joinid', 'cell_type', 'n_counts', 'donor', 'dataset', 'cellar_run_uid']);
    expect((await firstRowCells()).slice(0, 2)).toEqual(['pbmc1-c0', '0']);

    // Scrolled sideways, the id column stays where it was; the others move under it.
    const key = page.getByTestId('obs-table-row').first().locator('[role=cell]').first();
    const before = (await key.boundingBox())!;
    await cellsTable().evaluate((el) => el.scrollTo({ left: 400 }));
    await expect.poll(async () => (await cellsTable().evaluate((el) => el.scrollLeft)) > 0).toBe(true);
    expect((await key.boundingBox())!.x).toBeCloseTo(before.x, 0);
    await screenshot(page, '61-store-internal-columns-scrolled-1024');
    await cellsTable().evaluate((el) => el.scrollTo({ left: 0 }));
    await page.getByTestId('show-internal').uncheck();
    await expectNoPageOverflow();
  }, STEP_MS);

  it('sorts numbers numerically both ways and text naturally, over every cell', async () => {
    await page.getByRole('button', { name: 'Sort by n_counts' }).click();
    await expect.poll(() => firstRowCells().then((c) => c[0])).toBe(expected.atlas.min_id);
    expect(Number((await firstRowCells())[2])).toBe(expected.atlas.n_min);
    expect(await page.locator('[role=columnheader][aria-sort=ascending]').textContent()).toContain('n_counts');
    await page.getByRole('button', { name: 'Sort by n_counts, now ascending' }).click();
    await expect.poll(() => firstRowCells().then((c) => c[0])).toBe(expected.atlas.max_id);
    expect(Number((await firstRowCells())[2])).toBe(expected.atlas.n_max);
    expect(await page.locator('[role=columnheader][aria-sort=descending]').textContent()).toContain('n_counts');
    await screenshot(page, '62-store-sorted-descending-1024');

    await page.getByRole('button', { name: 'Sort by cell_type' }).click();
    await expect.poll(() => firstRowCells().then((c) => c[1])).toBe('B');
    await page.getByRole('button', { name: 'Sort by cell_type, now ascending' }).click();
    await expect.poll(() => firstRowCells().then((c) => c[1])).toBe('T');
    // A third click goes back to the store's own order.
    await page.getByRole('button', { name: 'Sort by cell_type, now descending' }).click();
    await expect.poll(() => firstRowCells().then((c) => c[0])).toBe('pbmc1-c0');
  }, STEP_MS);

  it('summarises a column over all cells: categories with counts, and min / median / max', async () => {
    await page.getByRole('button', { name: 'Summary of cell_type' }).first().click();
    const stats = page.getByTestId('column-stats');
    await stats.locator('table').waitFor({ timeout: 30_000 });
    const rows = await stats.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelector('td')?.textContent ?? '']));
    expect(rows).toEqual([...Object.entries(expected.atlas.cell_type).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, String(v)]), ['NA', '0']]);
    await screenshot(page, '63-store-column-summary-1024');
    await stats.getByRole('button', { name: 'Close the summary' }).click();

    await page.getByRole('button', { name: 'Summary of n_counts' }).first().click();
    await stats.locator('table').waitFor({ timeout: 30_000 });
    const numbers = Object.fromEntries(await stats.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelector('td')?.textContent ?? ''])));
    expect(numbers).toEqual({ min: String(expected.atlas.n_min), median: String(expected.atlas.n_median), max: String(expected.atlas.n_max), NA: '0' });
    await stats.getByRole('button', { name: 'Close the summary' }).click();
  }, STEP_MS);
});

describe('filter help on the Store screen', () => {
  it('shows an example from the store itself and completes values from the categories', async () => {
    const input = page.getByTestId('obs-filter');
    await expect.poll(() => input.getAttribute('placeholder')).toBe(`e.g. cell_type == "B" and n_counts > ${Number(expected.atlas.n_median.toPrecision(2))}`);
    await input.fill('');
    await input.pressSequentially('cell_type == "N');
    const list = page.getByTestId('obs-filter-completions');
    expect(await list.getByRole('option').allTextContents()).toEqual(['NK']);
    await list.getByRole('option', { name: 'NK' }).click();
    expect(await input.inputValue()).toBe('cell_type == "NK"');
    await input.press('Enter');
    await expect.poll(() => page.getByTestId('obs-count').textContent()).toBe(`${expected.atlas.cell_type.NK} of ${expected.atlas.n_obs} cells match`);
  }, STEP_MS);

  it('asks "did you mean" for a value no category has, and fixes it on request', async () => {
    const input = page.getByTestId('obs-filter');
    await input.fill('cell_type == "nk"');
    await input.press('Enter');
    const suggestion = page.getByTestId('obs-filter-suggestion');
    await suggestion.waitFor({ timeout: 30_000 });
    expect(await suggestion.textContent()).toBe('Nothing matches. cell_type has no "nk": did you mean "NK"? Use "NK"');
    expect(await page.getByTestId('obs-count').textContent()).toBe(`0 of ${expected.atlas.n_obs} cells match`);
    await screenshot(page, '64-store-filter-did-you-mean-1024');
    await suggestion.getByRole('button', { name: 'Use "NK"' }).click();
    await expect.poll(() => page.getByTestId('obs-count').textContent()).toBe(`${expected.atlas.cell_type.NK} of ${expected.atlas.n_obs} cells match`);
    expect(await input.inputValue()).toBe('cell_type == "NK"');
  }, STEP_MS);

  it('clears the previous rows when a filter has an error', async () => {
    const input = page.getByTestId('obs-filter');
    await input.fill('cell_type == ');
    await input.press('Enter');
    await page.getByTestId('obs-cleared').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('obs-table-row').count()).toBe(0);
    expect(await page.getByTestId('obs-count').textContent()).toBe('No cells shown: the filter has an error');
    expect(await page.getByTestId('export-blocked').textContent()).toBe('A filter above has an error: fix it or clear it to export.');
    await screenshot(page, '65-store-filter-error-cleared-1024');
    await page.locator('.filter-box').first().getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => page.getByTestId('obs-count').textContent()).toBe(`${expected.atlas.n_obs} cells`);
    await page.getByTestId('obs-table-row').first().waitFor();
  }, STEP_MS);
});

describe('every screen at 1024×700', () => {
  it('lists each screen once in the sidebar and lays each out within the window', async () => {
    await page.goto(served.url);
    await page.getByTestId('artifact').first().waitFor({ timeout: 30_000 });
    const links = await page.getByRole('navigation', { name: 'Screens' }).getByRole('link').allTextContents();
    expect(links).toEqual(['Library', 'File inspector', 'Concatenate', 'Store', 'Append', 'Embeddings', 'Versions', 'Lineage']);
    const screens: [string, string, () => Promise<unknown>][] = [
      ['Library', '70-library-1024', () => page.getByTestId('artifact').first().waitFor()],
      ['File inspector', '71-inspector-empty-1024', () => page.getByText('No file open').waitFor()],
      ['Concatenate', '72-concatenate-1024', () => page.getByTestId('plan-kept').waitFor({ timeout: 60_000 })],
      ['Store', '73-store-1024', () => page.getByTestId('obs-table-row').first().waitFor({ timeout: 30_000 })],
      ['Append', '74-append-1024', () => page.getByRole('heading', { name: 'Append', level: 1 }).waitFor()],
      ['Embeddings', '75-embeddings-1024', () => page.getByRole('img', { name: /Scatter plot of/ }).waitFor({ timeout: 60_000 })],
      ['Versions', '76-versions-1024', () => page.getByRole('table').first().waitFor({ timeout: 30_000 })],
      ['Lineage', '77-lineage-1024', () => page.locator('canvas').first().waitFor({ timeout: 30_000 })],
    ];
    const failures: string[] = [];
    for (const [screen, shot, ready] of screens) {
      await nav(screen);
      await ready();
      expect(page.viewportSize()).toEqual(VIEWPORT);
      // The whole screen, and the window as it is (what fits at 700 px) beside it.
      const full = await screenshot(page, shot);
      await page.screenshot({ path: full.replace(/\.png$/, '-window.png') });
      failures.push(...(await pageOverflow()).map((what) => `${screen}: ${what}`));
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
