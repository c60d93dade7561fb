// What a biologist sees while Cellar works and after, in real Chromium through `cellar
// serve`, with the machine's other core kept busy: the progress line of an import, a PCA
// and an export says what is happening in their words, with counts that move; the Versions
// screen says what made each version; on the Lineage screen a click on any node shows its
// details in a side panel with an Open button, and never jumps screens by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runPythonJson } from '../integration/helpers/python';
import { cellarAsync } from '../integration/helpers/cellar';
import { launchBrowser, screenshot, serve, waitForJobEnd, type Served } from './helpers';

// Three files of 20,000 cells × 2,000 genes, 40 counts per cell: seconds of PCA and export
// on a shared 2-core machine, so the progress line changes several times while it is watched.
const MAKE_FILES = `
import sys, json
import numpy as np, pandas as pd, anndata as ad, scipy.sparse as sp
out, n, g, per = sys.argv[1], 20000, 2000, 40
for k, name in enumerate(['lung1', 'lung2', 'lung3']):
    rng = np.random.default_rng(11 + k)
    indptr = np.arange(0, n * per + 1, per, dtype=np.int64)
    indices = (np.arange(per, dtype=np.int32)[None, :] * (g // per) + rng.integers(0, g // per, size=(n, 1), dtype=np.int32)).ravel()
    X = sp.csr_matrix((rng.integers(1, 20, size=n * per).astype(np.float32), indices, indptr), shape=(n, g))
    obs = pd.DataFrame({'cell_type': pd.Categorical(rng.choice(['AT1', 'AT2', 'Club'], size=n))}, index=[f'{name}-c{i}' for i in range(n)])
    ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=[f'G{j}' for j in range(g)])).write_h5ad(f'{out}/{name}.h5ad')
print(json.dumps({'n_obs': n}))
`;
const N_CELLS = 60_000;
const STEP_MS = 180_000;

let served: Served;
let browser: Browser;
let page: Page;
let home: string;
let data: string;
let busy: ChildProcess;

async function cli<T>(args: string[]): Promise<T> {
  const r = await cellarAsync([...args, '--json'], { home });
  expect(r.code, r.stderr).toBe(0);
  return r.json as T;
}

/** Goes to a screen by its address, as a bookmark would (the page keeps its token). */
const go = (hash: string) => page.evaluate((h) => (window.location.hash = h), hash);

const nav = (screen: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: screen, exact: true }).click();

/** Starts recording, in the page, every text any job's progress line shows (no polling gaps). */
async function recordPhases(): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __phases: string[]; __phaseObserver?: MutationObserver };
    w.__phases = [];
    w.__phaseObserver?.disconnect();
    const note = () => {
      for (const el of Array.from(document.querySelectorAll('.job-phase'))) {
        const text = el.textContent ?? '';
        if (w.__phases[w.__phases.length - 1] !== text) w.__phases.push(text);
      }
    };
    w.__phaseObserver = new MutationObserver(note);
    w.__phaseObserver.observe(document.body, { subtree: true, childList: true, characterData: true });
    note();
  });
}

const recordedPhases = () => page.evaluate(() => (window as unknown as { __phases: string[] }).__phases);

/** The numbers of "(12,000 of 60,000 cells)" in each line that has them. */
function cellCounts(lines: string[], pattern: RegExp): number[] {
  return lines.filter((l) => pattern.test(l)).map((l) => Number(/\(([\d,]+) of [\d,]+ cells\)$/.exec(l)![1]!.replace(/,/g, '')));
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cellar-e2e-trust-home-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-e2e-trust-data-'));
  runPythonJson(MAKE_FILES, [data]);
  served = await serve(home);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
}, 180_000);

afterAll(async () => {
  if (busy?.pid) busy.kill('SIGKILL');
  await browser?.close();
  await served?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

describe('progress in words, with counts that move', () => {
  it('import: checks each file by name and place in the list', async () => {
    await page.goto(served.url);
    await page.getByTestId('file-input').first().setInputFiles(['lung1', 'lung2', 'lung3'].map((n) => join(data, `${n}.h5ad`)));
    await expect.poll(() => page.locator('[data-testid=pending-file][data-status=ok]').count(), { timeout: 90_000 }).toBe(3);
    await page.getByLabel('Collection', { exact: true }).fill('lung');
    await recordPhases();
    await page.getByRole('button', { name: 'Import 3 files' }).click();
    expect(await waitForJobEnd(page.getByRole('region', { name: 'Import files' }))).toBe('completed');
    const phases = await recordedPhases();
    const checking = phases.filter((p) => p.startsWith('Checking'));
    expect(checking.length, phases.join('\n')).toBeGreaterThan(0);
    for (const p of checking) expect(p).toMatch(/^Checking lung[123]\.h5ad, file [123] of 3$/);
    for (const p of phases.filter((l) => l.startsWith('Copying'))) expect(p).toMatch(/^Copying lung[123]\.h5ad, file [123] of 3 \([\d.]+ of [\d.]+ (B|KiB|MiB)\)$/);
    // The file numbers only go up.
    const numbers = checking.map((p) => Number(/file (\d)/.exec(p)![1]));
    expect([...numbers].sort()).toEqual(numbers);
    console.log(`import progress lines seen:\n  ${phases.join('\n  ')}`);
  }, STEP_MS);

  it('PCA: reads expression values cell by cell, then computes components pass by pass', async () => {
    await cli(['concat', '--collection', 'lung', '--store', 'lungatlas']);
    // The store was made by the CLI while the page was open: a reload shows it.
    await page.reload();
    await go('#/embeddings?store=lungatlas');
    await page.getByText('No embeddings in this store yet — compute a PCA above.').waitFor({ timeout: 60_000 });
    await page.getByLabel('Components').fill('20');
    await recordPhases();
    await page.getByRole('button', { name: 'Compute PCA' }).click();
    const form = page.getByRole('form', { name: 'Compute PCA' });
    const job = form.getByTestId('job').first();
    await job.waitFor({ timeout: 30_000 });
    // Caught mid-way for the screenshot: the line as the user reads it.
    await expect.poll(async () => ((await job.locator('.job-phase').count()) ? await job.locator('.job-phase').textContent() : 'ended'), { timeout: 90_000, interval: 20 }).toMatch(/^(Reading expression values \(|Computing components, pass|ended)/);
    await screenshot(page, 'trust-01-pca-progress');
    expect(await waitForJobEnd(form, 150_000)).toBe('completed');
    const phases = await recordedPhases();
    console.log(`PCA progress lines seen:\n  ${phases.join('\n  ')}`);
    const reading = phases.filter((p) => p.startsWith('Reading expression values'));
    for (const p of reading) expect(p).toMatch(/^Reading expression values \([\d,]+ of 60,000 cells\)$/);
    const passes = phases.filter((p) => p.startsWith('Computing components'));
    for (const p of passes) expect(p).toMatch(/^Computing components, pass \d+ of up to \d+$/);
    // Counts that move: more than one distinct count was shown, cells first, then passes.
    const counts = cellCounts(phases, /^Reading expression values/);
    const passNumbers = passes.map((p) => Number(/pass (\d+)/.exec(p)![1]));
    expect(new Set([...counts.map((c) => `cells ${c}`), ...passNumbers.map((n) => `pass ${n}`)]).size, phases.join('\n')).toBeGreaterThanOrEqual(2);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);
    expect([...passNumbers].sort((a, b) => a - b)).toEqual(passNumbers);
    if (reading.length && passes.length) expect(phases.indexOf(reading[0]!)).toBeLessThan(phases.indexOf(passes[0]!));
  }, STEP_MS);

  it('export: writes expression values with the cells written so far', async () => {
    await go('#/store?store=lungatlas');
    await page.getByTestId('obs-count').waitFor({ timeout: 60_000 });
    await recordPhases();
    await page.getByRole('button', { name: 'Export .h5ad' }).click();
    await page.getByTestId('download-link').waitFor({ timeout: 150_000 });
    const phases = await recordedPhases();
    console.log(`export progress lines seen:\n  ${phases.join('\n  ')}`);
    const writing = phases.filter((p) => p.startsWith('Writing expression values'));
    expect(writing.length, phases.join('\n')).toBeGreaterThan(0);
    for (const p of writing) expect(p).toMatch(/^Writing expression values \([\d,]+ of 60,000 cells\)$/);
    const counts = cellCounts(writing, /./);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);
    expect(new Set(counts).size, phases.join('\n')).toBeGreaterThanOrEqual(2);
  }, STEP_MS);
});

describe('versions and lineage say what happened', () => {
  it('the Versions screen shows what made each version', async () => {
    await nav('Versions');
    const rows = page.getByTestId('version-row');
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(2);
    expect(await page.getByTestId('version-message').allTextContents()).toEqual(['PCA (20 components of data, normalised) as obsm pca', `concatenation of 3 files: 60,000 cells × 2,000 genes`]);
    await screenshot(page, 'trust-02-versions-messages');
  }, STEP_MS);

  it('a click on a lineage node shows its details beside the graph, with an Open button', async () => {
    const file = (await cli<{ artifacts: { uid: string; key: string }[] }>(['list'])).artifacts.find((a) => a.key === 'lung1.h5ad')!;
    await go(`#/lineage?ref=${file.uid}`);
    await page.locator('[data-testid=lineage-canvas][data-ready=true]').waitFor({ timeout: 30_000 });
    const details = page.getByTestId('lineage-details');
    expect(await details.textContent()).toContain('Click an item');
    const list = page.getByRole('navigation', { name: /Lineage items/ });
    // The file is followed into both versions, and the export and the embedding are nodes.
    const labels = await list.locator('.cellar-lineage-label').allTextContents();
    expect(labels).toEqual(expect.arrayContaining(['lung1.h5ad', 'lungatlas v1', 'lungatlas v2', 'obsm pca']));
    expect(labels.some((l) => /\.h5ad \(h5ad\)$/.test(l) && l !== 'lung1.h5ad')).toBe(true);

    // A store version: its message and Open; the screen stays on Lineage.
    await list.getByRole('button', { name: /^lungatlas v1/ }).click();
    expect(await details.getByTestId('details-title').textContent()).toBe('lungatlas v1');
    expect(await details.getByTestId('details-message').textContent()).toBe(`concatenation of 3 files: ${(N_CELLS).toLocaleString('en-US')} cells × 2,000 genes`);
    expect(page.url()).toContain('#/lineage');
    await screenshot(page, 'trust-03-lineage-store-details');

    // A run: its details (what it read, made, with which parameters) in the same panel.
    const embedRun = await list.locator('[data-node-id]').filter({ hasText: /^embed/ }).first().getAttribute('data-node-id');
    expect(embedRun).not.toBeNull();
    await list.locator(`[data-node-id="${embedRun}"]`).click();
    expect(await details.getByTestId('details-title').textContent()).toBe('embed');
    await details.getByTestId('run-details').waitFor({ timeout: 30_000 });
    expect(await details.getByTestId('details-open').isEnabled()).toBe(true);
    expect(page.url()).toContain('#/lineage');

    // The export: where it was written, and Open goes to the version it came from.
    await list.getByRole('button', { name: /\(h5ad\)/ }).first().click();
    expect(await details.textContent()).toMatch(/Written to .+\.h5ad/);
    await screenshot(page, 'trust-04-lineage-export-details');
    await details.getByTestId('details-open').click();
    await page.waitForURL(/#\/store/, { timeout: 30_000 });
    expect(page.url()).toContain('store=lungatlas');
  }, STEP_MS);
});
