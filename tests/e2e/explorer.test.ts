// The Embeddings screen as an explorer, in Chromium against `cellar serve`: a lasso drawn with
// real mouse events selects exactly the points inside it (counted here from the same
// coordinates, read back from an exported h5ad), the hovered cell's values show, the selection
// is saved as an obs column of a new version, differential expression of the selection against
// the rest agrees with `cellar de`, its table exports as CSV, and a gene from it colours the plot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runPythonJson } from '../integration/helpers/python';
import { cellarAsync } from '../integration/helpers/cellar';
import { launchBrowser, screenshot, SCREENSHOTS, serve, waitForJobEnd, type Served } from './helpers';
import { MAKE_DATA } from './seed-data';

const STEP_MS = 150_000;

// The embedding and ids of every cell, in soma_joinid order, as anndata reads them from an export.
const READ_EMBEDDING = `
import sys, json
import anndata as ad
a = ad.read_h5ad(sys.argv[1])
print(json.dumps({'ids': [str(i) for i in a.obs_names], 'pca': a.obsm['pca'][:, :2].astype(float).tolist()}))
`;

let served: Served;
let browser: Browser;
let page: Page;
let home: string;
let data: string;
let cells: { ids: string[]; pca: [number, number][] };
let explained: number[];

async function cli(args: string[]): Promise<string> {
  const r = await cellarAsync(args, { home });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cellar-e2e-explorer-home-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-e2e-explorer-data-'));
  runPythonJson(MAKE_DATA, [data]);
  await cli(['import', join(data, 'pbmc1.h5ad'), join(data, 'pbmc2.h5ad'), join(data, 'pbmc3.h5ad'), '--collection', 'pbmc', '--json']);
  await cli(['concat', '--collection', 'pbmc', '--store', 'atlas', '--json']);
  const embedded = JSON.parse(await cli(['embed', '--store', 'atlas', '--pca', '5', '--normalize', '--seed', '1', '--json'])) as { embedding: { explained_variance_ratio: number[] } };
  explained = embedded.embedding.explained_variance_ratio;
  await cli(['query', '--store', 'atlas', '--out', join(data, 'atlas.h5ad'), '--json']);
  cells = runPythonJson(READ_EMBEDDING, [join(data, 'atlas.h5ad')]);
  served = await serve(home);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 1400 }, acceptDownloads: true });
  await page.goto(served.url);
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

/** The textbook even-odd ray cast, independent of the app's banded one. */
function inside(x: number, y: number, polygon: [number, number][]): boolean {
  let result = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) result = !result;
  }
  return result;
}

const canvas = () => page.getByTestId('scatter').locator('canvas');

/** The plot's window (data coordinates) and the canvas box: how a pixel maps to data, as the plot maps it. */
async function geometry() {
  // The mouse reaches only what is in the window.
  await canvas().scrollIntoViewIfNeeded();
  const box = (await canvas().boundingBox())!;
  const [x0, x1, y0, y1] = (await canvas().getAttribute('data-view'))!.split(',').map(Number) as [number, number, number, number];
  return {
    box,
    toData: (px: number, py: number): [number, number] => [x0 + ((px - box.x) / box.width) * (x1 - x0), y1 - ((py - box.y) / box.height) * (y1 - y0)],
    toPixel: (x: number, y: number): [number, number] => [box.x + ((x - x0) / (x1 - x0)) * box.width, box.y + ((y1 - y) / (y1 - y0)) * box.height],
  };
}

let lassoed: number[] = [];

describe('the Embeddings screen explores a store', () => {
  it('labels the axes with the variance each component explains', async () => {
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Embeddings', exact: true }).click();
    await canvas().waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=scatter] canvas')?.getAttribute('data-frame-count') ?? 0) > 0, undefined, { timeout: 60_000 });
    const labels = await page.locator('.cellar-axis-label').allTextContents();
    expect(labels.sort()).toEqual([`PC1 (${(explained[0]! * 100).toFixed(1)}%)`, `PC2 (${(explained[1]! * 100).toFixed(1)}%)`].sort());
  }, STEP_MS);

  it('selects exactly the points inside a lasso drawn with the mouse', async () => {
    await page.getByRole('button', { name: 'Lasso', exact: true }).click();
    const { box, toData } = await geometry();
    // A lopsided heptagon around the middle of the plot.
    const cx = box.x + box.width * 0.5;
    const cy = box.y + box.height * 0.5;
    const vertices: [number, number][] = Array.from({ length: 7 }, (_, k) => {
      const angle = (2 * Math.PI * k) / 7;
      const radius = (k % 2 === 0 ? 0.3 : 0.22) * Math.min(box.width, box.height);
      return [Math.round(cx + radius * Math.cos(angle)), Math.round(cy + radius * Math.sin(angle))];
    });
    await page.mouse.move(...vertices[0]!);
    await page.mouse.down();
    for (const v of vertices.slice(1)) await page.mouse.move(...v);
    // The page as it is (no resizing for a full-page shot while the button is down).
    await page.screenshot({ path: join(SCREENSHOTS, 'explorer-1-lasso-drawing.png') });
    await page.mouse.up();

    const polygon = vertices.map(([px, py]) => toData(px, py));
    lassoed = cells.pca.flatMap(([x, y], i) => (inside(x, y, polygon) ? [i] : []));
    expect(lassoed.length).toBeGreaterThan(10);
    expect(lassoed.length).toBeLessThan(cells.ids.length);
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toBe(`${lassoed.length} selected`);
    // Tested in the module worker, which the page's policy (worker-src 'self') lets `cellar serve` start.
    expect(await canvas().getAttribute('data-hit-test')).toBe('worker');
    expect(await page.getByTestId('selection-summary').textContent()).toBe(`${lassoed.length} of ${cells.ids.length} cells selected.`);
    await screenshot(page, 'explorer-2-lasso-selected');
    // The full-page shot resizes the window, which can leave the plot scrolled elsewhere: measure it again.
    const again = await geometry();

    // Shift adds a box, alt takes the same box away again: back to the lasso's cells.
    await page.getByRole('button', { name: 'Box', exact: true }).click();
    const corner: [number, number] = [Math.round(again.box.x + again.box.width * 0.05), Math.round(again.box.y + again.box.height * 0.05)];
    const far: [number, number] = [Math.round(again.box.x + again.box.width * 0.3), Math.round(again.box.y + again.box.height * 0.3)];
    const [ax, ay] = again.toData(...corner);
    const [bx, by] = again.toData(...far);
    const inBox = (x: number, y: number) => x >= Math.min(ax, bx) && x <= Math.max(ax, bx) && y >= Math.min(ay, by) && y <= Math.max(ay, by);
    const union = cells.pca.filter(([x, y], i) => lassoed.includes(i) || inBox(x, y)).length;
    const drag = async (modifier: 'Shift' | 'Alt') => {
      await page.keyboard.down(modifier);
      await page.mouse.move(...corner);
      await page.mouse.down();
      await page.mouse.move(...far, { steps: 4 });
      await page.mouse.up();
      await page.keyboard.up(modifier);
    };
    await drag('Shift');
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toBe(`${union} selected`);
    await drag('Alt');
    const withoutBox = lassoed.filter((i) => !inBox(...cells.pca[i]!)).length;
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toBe(`${withoutBox} selected`);
    // Lasso again, so the rest of the test works on the lasso's cells.
    await page.getByRole('button', { name: 'Lasso', exact: true }).click();
    const redrawn = polygon.map(([x, y]) => again.toPixel(x, y));
    await page.mouse.move(...redrawn[0]!);
    await page.mouse.down();
    for (const v of redrawn.slice(1)) await page.mouse.move(...v);
    await page.mouse.up();
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toBe(`${lassoed.length} selected`);
  }, STEP_MS);

  it("shows the hovered cell's obs values", async () => {
    await page.getByRole('button', { name: 'Pan', exact: true }).click();
    const { toPixel } = await geometry();
    // A cell with no other within 10 pixels, so the pointer can only mean it.
    const pixels = cells.pca.map(([x, y]) => toPixel(x, y));
    const lonely = pixels.findIndex(([px, py], i) => pixels.every(([qx, qy], j) => j === i || Math.hypot(px - qx, py - qy) > 10));
    expect(lonely).toBeGreaterThanOrEqual(0);
    await page.mouse.move(pixels[lonely]![0] + 1, pixels[lonely]![1]);
    const tooltip = page.getByTestId('point-tooltip');
    await tooltip.getByTestId('tooltip-values').waitFor({ timeout: 30_000 });
    const text = (await tooltip.textContent()) ?? '';
    expect(text).toContain(`obs_id${cells.ids[lonely]}`);
    // The dataset column reads as the file's name.
    expect(text).toMatch(/datasetpbmc[123]\.h5ad/);
    await screenshot(page, 'explorer-3-tooltip');
    await page.mouse.move(5, 5);
  }, STEP_MS);

  it('saves the selection as an obs column of a new version', async () => {
    const panel = page.getByTestId('selection-panel');
    await panel.getByLabel('Column name').fill('lassoed');
    await panel.getByRole('button', { name: 'Save as annotation' }).click();
    expect(await waitForJobEnd(panel)).toBe('completed');
    const saved = panel.getByTestId('selection-saved');
    await saved.waitFor();
    expect(await saved.textContent()).toContain(`Saved as the obs column lassoed in version 3 (${lassoed.length} cells labelled).`);
    await screenshot(page, 'explorer-4-saved');

    const versions = JSON.parse(await cli(['versions', '--store', 'atlas', '--json'])) as { version: number; is_latest: boolean; run: { transform: string } }[];
    expect(versions[0]).toMatchObject({ version: 3, is_latest: true, run: { transform: 'annotate' } });
    const csv = (await cli(['query', '--store', 'atlas', '--obs', 'lassoed == "selected"', '--format', 'csv'])).trim().split('\n');
    const idColumn = csv[0]!.split(',').indexOf('obs_id');
    expect(csv.slice(1).map((line) => line.split(',')[idColumn]).sort()).toEqual(lassoed.map((i) => cells.ids[i]!).sort());
    const others = (await cli(['query', '--store', 'atlas', '--obs', 'lassoed == "other"', '--format', 'csv'])).trim().split('\n');
    expect(others.length - 1).toBe(cells.ids.length - lassoed.length);
    // The selection survives the new version: the plot still shows it.
    expect(await page.getByTestId('selection-count').textContent()).toBe(`${lassoed.length} selected`);
  }, STEP_MS);

  it('runs differential expression of the selection against the rest, as cellar de does', async () => {
    const panel = page.getByTestId('de-panel');
    await panel.getByRole('button', { name: 'Run' }).click();
    expect(await waitForJobEnd(panel)).toBe('completed');
    await panel.getByTestId('de-summary').waitFor();
    expect(await panel.getByTestId('de-summary').textContent()).toContain(`${lassoed.length} selected cells (${lassoed.length} cells) against rest (${cells.ids.length - lassoed.length} cells), Wilcoxon rank-sum`);
    await panel.getByTestId('de-row').first().waitFor({ timeout: 30_000 });

    const reference = JSON.parse(await cli(['de', '--store', 'atlas', '--obs', `soma_joinid in [${lassoed.join(', ')}]`, '--json'])) as { results: { gene: string; pval: number; padj: number }[] };
    const rows = await panel.getByTestId('de-row').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')));
    const formatP = (p: number) => (p === 0 ? '0' : p < 1e-3 ? p.toExponential(2) : p.toPrecision(3));
    expect(rows.slice(0, 5).map((r) => [r[0], r[3]])).toEqual(reference.results.slice(0, 5).map((r) => [r.gene, formatP(r.pval)]));
    expect(await panel.getByTestId('de-count').textContent()).toBe(`${reference.results.length} of ${reference.results.length} genes`);
    await screenshot(page, 'explorer-5-de');

    // Sorting by p-value puts the smallest first; a search keeps the matching genes.
    await panel.getByRole('button', { name: /^pval/ }).click();
    const byP = [...reference.results].sort((a, b) => a.pval - b.pval);
    expect(await panel.getByTestId('de-row').first().locator('td').nth(3).textContent()).toBe(formatP(byP[0]!.pval));
    await panel.getByLabel('Find a gene').fill('G1');
    const matching = reference.results.filter((r) => r.gene.toLowerCase().includes('g1')).length;
    expect(await panel.getByTestId('de-count').textContent()).toBe(`${matching} of ${reference.results.length} genes`);
    await panel.getByLabel('Find a gene').fill('');
    await panel.getByRole('button', { name: /^pval/ }).click();
    await panel.getByRole('button', { name: /^pval/ }).click();

    // Export CSV: the whole table, best first.
    await panel.getByRole('button', { name: 'Export CSV' }).click();
    await panel.getByTestId('de-exported').waitFor({ timeout: 30_000 });
    const exported = readdirSync(join(home, 'exports')).filter((f) => f.endsWith('-de.csv'));
    expect(exported).toHaveLength(1);
    const lines = readFileSync(join(home, 'exports', exported[0]!), 'utf8').trim().split(/\r?\n/);
    const header = lines[0]!.split(',');
    expect(header.slice(0, 7)).toEqual(['gene', 'symbol', 'logfc', 'pval', 'padj', 'pct_in', 'pct_out']);
    expect(lines).toHaveLength(reference.results.length + 1);
    const first = lines[1]!.split(',');
    expect(first[0]).toBe(reference.results[0]!.gene);
    expect(Number(first[header.indexOf('pval')])).toBeCloseTo(reference.results[0]!.pval, 12);

    // Clicking a gene colours the embedding by its log-normalised expression.
    const top = reference.results[0]!.gene;
    await panel.getByRole('button', { name: top, exact: true }).click();
    const legend = page.getByRole('complementary', { name: 'Legend' });
    await legend.locator('.cellar-colorbar').waitFor({ timeout: 30_000 });
    expect(await legend.locator('.cellar-legend-note').textContent()).toBe(`${top}: log1p of counts per 10,000`);
    expect(await page.getByLabel('Color by').inputValue()).toBe('gene');
    await page.getByRole('heading', { name: 'Plot' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'explorer-6-gene');

    // Typing a gene offers ids and symbols that start with it, the same the CLI finds.
    const search = JSON.parse(await cli(['genes', '--store', 'atlas', '--search', 'g1', '--limit', '20', '--json'])) as { hits: { id: string; symbol: string | null }[] };
    expect(search.hits.length).toBeGreaterThan(1);
    await page.getByLabel('…or a gene').fill('g1');
    const suggestions = page.getByTestId('gene-suggestions').locator('option');
    await expect.poll(() => suggestions.count(), { timeout: 30_000 }).toBe(search.hits.length);
    expect(await suggestions.evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(search.hits.map((h) => h.symbol ?? h.id));
    await page.getByLabel('…or a gene').fill('');
  }, STEP_MS);

  it('hides and isolates categories from the legend, and shows datasets by file name', async () => {
    await page.getByLabel('Color by').selectOption('obs:cell_type');
    const legend = page.getByRole('complementary', { name: 'Legend' });
    await legend.getByTestId('legend-entry').first().waitFor({ timeout: 30_000 });
    const entries = legend.getByTestId('legend-entry');
    expect(await entries.locator('.cellar-legend-label').allTextContents()).toEqual(['B', 'NK', 'T']);
    await legend.getByRole('button', { name: /^NK/ }).click();
    expect(await legend.getByRole('button', { name: /^NK/ }).getAttribute('aria-pressed')).toBe('false');
    expect(await legend.getByRole('button', { name: /^Show all/ }).textContent()).toBe('Show all (1 hidden)');
    await screenshot(page, 'explorer-7-legend-hidden');
    await legend.getByRole('button', { name: 'Show only T' }).click({ force: true });
    expect(await legend.getByRole('button', { name: /^Show all/ }).textContent()).toBe('Show all (2 hidden)');
    await legend.getByRole('button', { name: /^Show all/ }).click();
    await page.getByLabel('Color by').selectOption('obs:dataset');
    await expect.poll(() => entries.locator('.cellar-legend-label').allTextContents()).toEqual(['pbmc1.h5ad', 'pbmc2.h5ad', 'pbmc3.h5ad']);
    expect(await entries.locator('.cellar-legend-count').allTextContents()).toEqual([': 120 points', ': 100 points', ': 80 points']);
  }, STEP_MS);

  it('exports the selection as an h5ad and opens it in the Store screen', async () => {
    const panel = page.getByTestId('selection-panel');
    await panel.getByRole('button', { name: 'Export…' }).click();
    expect(await panel.getByText(/^The slice:/).textContent()).toBe(`The slice: ${lassoed.length} cells × 62 genes (the selected cells, every gene) from version 3.`);
    await panel.getByRole('button', { name: 'Export .h5ad' }).click();
    expect(await waitForJobEnd(panel.getByRole('region', { name: 'Export' }))).toBe('completed');
    const exported = readdirSync(join(home, 'exports')).filter((f) => f.endsWith('.h5ad'));
    expect(exported).toHaveLength(1);
    const names = runPythonJson<string[]>(`import sys, json, anndata as ad\nprint(json.dumps([str(i) for i in ad.read_h5ad(sys.argv[1]).obs_names]))`, [join(home, 'exports', exported[0]!)]);
    expect(names.sort()).toEqual(lassoed.map((i) => cells.ids[i]!).sort());
    await screenshot(page, 'explorer-8-export');

    await panel.getByRole('button', { name: 'Open in Store screen' }).click();
    await expect.poll(() => page.getByTestId('obs-count').textContent(), { timeout: 30_000 }).toBe(`${lassoed.length} of ${cells.ids.length} cells match`);
    expect(await page.getByLabel('Filter cells').inputValue()).toBe(`soma_joinid in [${lassoed.join(', ')}]`);
    await screenshot(page, 'explorer-9-store');
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Embeddings', exact: true }).click();
    await canvas().waitFor({ timeout: 30_000 });
  }, STEP_MS);

  it('shows any version: the first has no embedding yet', async () => {
    await page.getByLabel('Version', { exact: true }).selectOption('1');
    await page.getByText('No embeddings in this version.').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('explorer-version').textContent()).toContain('Version v1 (read-only)');
    await page.getByLabel('Version', { exact: true }).selectOption('');
    await canvas().waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('explorer-version').textContent()).toContain('Version v3 (latest)');
    // Each version once: the latest is the default entry, not listed a second time.
    const options = (await page.getByLabel('Version', { exact: true }).locator('option').allTextContents()).map((o) => o.split(' — ')[0]);
    expect(options).toEqual(['v3 (latest)', 'v2', 'v1']);
  }, STEP_MS);
});
