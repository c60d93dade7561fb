// The Embeddings screen's Compute panel, in Chromium against `cellar serve`: a PCA, QC metrics,
// then neighbours and Leiden clusters, then UMAP, each started from the app as a job. The versions
// they make are read back with `cellar versions --json`, the cluster count the app shows is the
// one the CLI finds in the data, X_umap is offered in the embedding picker, and the Versions and
// Lineage screens show every step with what it was given.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runPythonJson } from '../integration/helpers/python';
import { cellarAsync } from '../integration/helpers/cellar';
import { launchBrowser, screenshot, SCREENSHOTS, serve, waitForJobEnd, type Served } from './helpers';
import { MAKE_DATA } from './seed-data';

const STEP_MS = 150_000;

let served: Served;
let browser: Browser;
let page: Page;
let home: string;
let data: string;

async function cli(args: string[]): Promise<string> {
  const r = await cellarAsync(args, { home });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

interface VersionRow {
  version: number;
  is_latest: boolean;
  message: string | null;
  run: { transform: string } | null;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cellar-e2e-compute-home-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-e2e-compute-data-'));
  runPythonJson(MAKE_DATA, [data]);
  await cli(['import', join(data, 'pbmc1.h5ad'), join(data, 'pbmc2.h5ad'), join(data, 'pbmc3.h5ad'), '--collection', 'pbmc', '--json']);
  await cli(['concat', '--collection', 'pbmc', '--store', 'atlas', '--json']);
  served = await serve(home);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 1400 } });
  await page.goto(served.url);
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

const panel = () => page.getByTestId('compute-panel');

const nav = (name: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name, exact: true }).click();

describe('the Compute panel', () => {
  it(
    'computes a normalised five-component PCA',
    async () => {
      await nav('Embeddings');
      await page.getByText('No embeddings in this store yet — compute a PCA above.').waitFor({ timeout: 30_000 });
      const form = page.getByRole('form', { name: 'Compute PCA' });
      await form.getByLabel('Components').fill('5');
      await form.getByLabel('Seed').fill('1');
      await form.getByLabel('Normalize (counts per 10,000, then log1p)').check();
      await form.getByRole('button', { name: 'Compute PCA' }).click();
      expect(await waitForJobEnd(form)).toBe('completed');
      expect(await page.getByTestId('pca-done').textContent()).toMatch(/^Saved pca \(300 cells × 5 components\) as version 2\./);
      await page.getByTestId('explorer-version').filter({ hasText: 'Version v2 (latest)' }).waitFor();
    },
    STEP_MS,
  );

  it(
    'computes QC metrics as a new version with their obs columns',
    async () => {
      await screenshot(page, 'compute-1-panel');
      const step = panel().getByTestId('compute-qc');
      await step.getByRole('button', { name: 'Compute QC metrics' }).click();
      expect(await waitForJobEnd(step)).toBe('completed');
      await expect.poll(() => step.getByTestId('compute-qc-done').textContent()).toContain('as version 3');
      expect(await step.getByTestId('compute-qc-done').textContent()).toContain('total_counts, n_genes_by_counts');
      // The library refresh moves the screen to v3, whose colour picker lists the new columns.
      await page.getByTestId('explorer-version').filter({ hasText: 'Version v3 (latest)' }).waitFor();
      const colorOptions = await page.getByLabel('Color by').locator('option').allTextContents();
      expect(colorOptions).toEqual(expect.arrayContaining(['total_counts', 'pct_counts_mt']));

      // total_counts by dataset: 30 bins over every cell's range, counted here from the CLI's rows.
      const histograms = page.getByTestId('qc-histograms');
      expect(await histograms.getByLabel('obs column').inputValue()).toBe('total_counts');
      await expect.poll(() => histograms.getByTestId('qc-histogram').count()).toBe(3);
      const rows = JSON.parse(await cli(['query', '--store', 'atlas', '--format', 'json'])) as { dataset: number; total_counts: number }[];
      const totals = rows.map((r) => r.total_counts);
      const lo = Math.min(...totals);
      const width = (Math.max(...totals) - lo) / 30;
      const expected = [0, 1, 2].map((d) => {
        const counts = new Array<number>(30).fill(0);
        for (const r of rows) if (r.dataset === d) counts[Math.min(29, Math.floor((r.total_counts - lo) / width))]!++;
        return counts;
      });
      const shown = await histograms.getByTestId('qc-histogram').evaluateAll((figures) => figures.map((f) => [f.getAttribute('data-dataset'), (f.getAttribute('data-counts') ?? '').split(',').map(Number)]));
      expect(shown.map(([name]) => name)).toEqual(['pbmc1.h5ad', 'pbmc2.h5ad', 'pbmc3.h5ad']);
      expect(shown.map(([, counts]) => counts)).toEqual(expected);
      expect(expected.map((c) => c.reduce((a, b) => a + b, 0))).toEqual([120, 100, 80]);
      await histograms.scrollIntoViewIfNeeded();
      await screenshot(page, 'compute-1b-histograms');
    },
    STEP_MS,
  );

  it(
    'computes neighbours with the chosen k, then clusters on them',
    async () => {
      const neighbors = panel().getByTestId('compute-neighbors');
      await neighbors.getByLabel('k', { exact: true }).fill('10');
      expect(await neighbors.getByLabel('Embedding').inputValue()).toBe('pca');
      await neighbors.getByRole('button', { name: 'Compute neighbours' }).click();
      expect(await waitForJobEnd(neighbors)).toBe('completed');
      await expect.poll(() => neighbors.getByTestId('compute-neighbors-done').textContent()).toBe('Saved obsp neighbors (10 euclidean neighbours of 300 cells on pca) as version 4.');
      await page.getByTestId('explorer-version').filter({ hasText: 'Version v4 (latest)' }).waitFor();

      const clusters = panel().getByTestId('compute-clusters');
      await clusters.getByLabel('Resolution').fill('0.8');
      await clusters.getByRole('button', { name: 'Compute clusters' }).click();
      expect(await waitForJobEnd(clusters)).toBe('completed');
      const done = clusters.getByTestId('compute-clusters-done');
      await expect.poll(() => done.textContent()).toContain('saved as version 5');
      const shown = /^(\d+) Leiden clusters? in obs column leiden \(resolution 0\.8,/.exec((await done.textContent()) ?? '');
      expect(shown).not.toBeNull();
      const shownCount = Number(shown![1]);

      // The CLI reads the column back from the data: as many distinct values as the app said.
      const rows = JSON.parse(await cli(['query', '--store', 'atlas', '--format', 'json'])) as { leiden: string }[];
      expect(rows).toHaveLength(300);
      expect(new Set(rows.map((r) => r.leiden)).size).toBe(shownCount);
      // And the plot is coloured by the new column: one legend entry per cluster.
      await page.getByTestId('explorer-version').filter({ hasText: 'Version v5 (latest)' }).waitFor();
      await expect.poll(() => page.getByLabel('Color by').inputValue()).toBe('obs:leiden');
      await expect.poll(() => page.getByTestId('legend-entry').count()).toBe(shownCount);
      await screenshot(page, 'compute-2-clusters');
    },
    STEP_MS,
  );

  it(
    'computes UMAP from the graph and offers X_umap in the embedding picker',
    async () => {
      const umap = panel().getByTestId('compute-umap');
      await umap.getByLabel('Min dist').fill('0.3');
      await umap.getByRole('button', { name: 'Compute UMAP' }).click();
      expect(await waitForJobEnd(umap)).toBe('completed');
      await expect.poll(() => umap.getByTestId('compute-umap-done').textContent()).toBe('Saved obsm X_umap (300 cells, min dist 0.3 from the neighbour graph neighbors) as version 6.');
      await page.getByTestId('explorer-version').filter({ hasText: 'Version v6 (latest)' }).waitFor();
      const picker = page.getByRole('region', { name: 'Plot' }).getByLabel('Embedding');
      await expect.poll(() => picker.locator('option').allTextContents()).toEqual(['pca (5 dims)', 'X_umap (2 dims)']);
      // The new embedding is the one shown.
      await expect.poll(() => picker.inputValue()).toBe('X_umap');
      await page.getByTestId('scatter').locator('canvas').first().waitFor();
      await screenshot(page, 'compute-3-umap');

      const versions = JSON.parse(await cli(['versions', '--store', 'atlas', '--json'])) as VersionRow[];
      const byNumber = new Map(versions.map((v) => [v.version, v]));
      expect([3, 4, 5, 6].map((n) => byNumber.get(n)?.run?.transform)).toEqual(['qc', 'neighbors', 'cluster', 'umap']);
      expect(byNumber.get(6)?.is_latest).toBe(true);
      expect(byNumber.get(5)?.message).toMatch(/^Leiden clusters as obs column leiden \(resolution 0\.8/);
    },
    STEP_MS,
  );

  it(
    'lists every step on the Versions screen and shows its run and parameters in the lineage',
    async () => {
      await nav('Versions');
      const rows = page.getByTestId('version-row');
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(6);
      const texts = await rows.allTextContents();
      // Each row ends with the run's transform, then its actions.
      expect(texts.map((t) => /(\w+)Open(Restore…)?$/.exec(t)?.[1])).toEqual(['umap', 'cluster', 'neighbors', 'qc', 'embed', 'concatenate']);
      expect(texts[1]).toContain('Leiden clusters as obs column leiden (resolution 0.8');
      expect(texts[0]).toContain('latest');

      await nav('Lineage');
      await page.locator('[data-testid=lineage-canvas][data-ready=true]').waitFor({ timeout: 30_000 });
      const nodes = page.getByRole('navigation', { name: /Lineage items/ }).getByRole('button');
      for (const transform of ['embed', 'qc', 'neighbors', 'cluster', 'umap']) await expect.poll(() => nodes.filter({ hasText: new RegExp(`^${transform}`) }).count()).toBe(1);
      await nodes.filter({ hasText: /^umap/ }).click();
      const details = page.getByTestId('run-details');
      await details.waitFor({ timeout: 30_000 });
      expect(await details.getByRole('heading').first().textContent()).toBe('Run: umap completed');
      expect(await details.getByTestId('run-inputs').getByRole('button').allTextContents()).toEqual(['atlas v5']);
      expect(await details.getByTestId('run-outputs').getByRole('button').allTextContents()).toEqual(['atlas v6']);
      const params = await details.getByTestId('run-params').evaluate((dl) => Object.fromEntries(Array.from(dl.querySelectorAll('div'), (d) => [d.querySelector('dt')!.textContent, d.querySelector('dd')!.textContent])));
      expect(params).toMatchObject({ name: 'X_umap', neighbors: 'neighbors', minDist: '0.3', seed: '0' });
      await screenshot(page, 'compute-4-lineage-umap');
      // Seventeen items in a row would be too small to read when fitted: the graph opens at a
      // readable zoom on its newest end, and "Fit graph" shows all of it.
      const canvas = page.getByTestId('lineage-canvas');
      expect(Number(await canvas.getAttribute('data-zoom'))).toBe(0.6);
      await page.getByRole('button', { name: 'Fit graph' }).click();
      expect(Number(await canvas.getAttribute('data-zoom'))).toBeLessThan(0.6);
    },
    STEP_MS,
  );
});
