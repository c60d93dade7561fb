// Cancel, end to end in the browser, on data big enough that the work is still running
// when the button is clicked, with the machine's other core kept busy: a concatenation
// cancelled right after it starts, while it reads the files and while it copies expression
// values (no store appears, the card says Cancelled within about a second), and a PCA (no
// version appears). The CLI, sharing the home, confirms what the screens say.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { runPythonJson } from '../integration/helpers/python';
import { cellarAsync } from '../integration/helpers/cellar';
import { launchBrowser, screenshot, serve, waitForJobEnd, type Served } from './helpers';

// Three files of 30,000 cells × 2,000 genes, 40 counts per cell: under a second to write, seconds to
// concatenate and many more to compute 100 principal components on a shared 2-core
// machine, while a cancelled job stops within about a second.
const MAKE_BIG = `
import sys, json
import numpy as np, pandas as pd, anndata as ad, scipy.sparse as sp
out, n, g, per = sys.argv[1], 30000, 2000, 40
for k, name in enumerate(['big', 'big2', 'big3']):
    rng = np.random.default_rng(3 + k)
    indptr = np.arange(0, n * per + 1, per, dtype=np.int64)
    # One gene in each of per equal bands, so each row's indices are sorted and distinct.
    indices = (np.arange(per, dtype=np.int32)[None, :] * (g // per) + rng.integers(0, g // per, size=(n, 1), dtype=np.int32)).ravel()
    X = sp.csr_matrix((rng.integers(1, 20, size=n * per).astype(np.float32), indices, indptr), shape=(n, g))
    obs = pd.DataFrame({'cell_type': pd.Categorical(rng.choice(['A', 'B', 'C'], size=n))}, index=[f'{name}-c{i}' for i in range(n)])
    ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=[f'G{j}' for j in range(g)])).write_h5ad(f'{out}/{name}.h5ad')
print(json.dumps({'n_obs': n}))
`;

const STEP_MS = 150_000;

let served: Served;
let browser: Browser;
let page: Page;
let home: string;
let data: string;
let busy: ChildProcess;
const latencies: { moment: string; phase: string; ms: number }[] = [];

async function cli<T>(args: string[]): Promise<T> {
  const r = await cellarAsync([...args, '--json'], { home });
  expect(r.code, r.stderr).toBe(0);
  return r.json as T;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cellar-e2e-cancel-home-'));
  data = mkdtempSync(join(tmpdir(), 'cellar-e2e-cancel-data-'));
  // Three files, so there is a reading phase and several files to copy.
  runPythonJson(MAKE_BIG, [data]);
  await cli(['import', join(data, 'big.h5ad'), join(data, 'big2.h5ad'), join(data, 'big3.h5ad'), '--collection', 'big', '--link']);
  served = await serve(home);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
}, 180_000);

afterAll(async () => {
  if (busy?.pid) busy.kill('SIGKILL');
  console.log(`browser cancel latencies (other core busy), click to "Cancelled":\n${latencies.map((l) => `  ${l.moment} (${l.phase}): ${l.ms} ms`).join('\n')}`);
  await browser?.close();
  await served?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

const nav = (screen: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: screen, exact: true }).click();

/**
 * Clicks the job's Cancel once its phase line matches (null: at once, whatever it says), then
 * waits for its end and records how long the card took to say so.
 */
async function cancelOnceWorking(scope: Locator, phase: RegExp | null, moment = ''): Promise<{ state: string; phaseSeen: string; ms: number }> {
  const job = scope.getByTestId('job').first();
  await job.waitFor({ timeout: 30_000 });
  const phaseLine = job.locator('.job-phase');
  if (phase) await expect.poll(async () => ((await phaseLine.count()) ? await phaseLine.textContent() : 'ended'), { timeout: 60_000, interval: 20 }).toMatch(phase);
  const phaseSeen = (await phaseLine.textContent()) ?? '';
  const t0 = Date.now();
  await job.getByRole('button', { name: 'Cancel' }).click();
  const state = await waitForJobEnd(scope, 60_000);
  const ms = Date.now() - t0;
  if (moment) latencies.push({ moment, phase: phaseSeen, ms });
  return { state, phaseSeen, ms };
}

/** Starts a concatenation of "big" into `storeKey` from the Concatenate screen. */
async function startConcatenation(storeKey: string): Promise<Locator> {
  await page.goto(served.url);
  await nav('Concatenate');
  await page.getByTestId('plan').waitFor({ timeout: 60_000 });
  await page.getByLabel('New store key').fill(storeKey);
  await page.getByRole('button', { name: 'Create store' }).click();
  return page.getByRole('region', { name: 'Concatenation settings' });
}

describe('cancelling long jobs in the browser', () => {
  it('cancels a concatenation right after it starts and while it reads the files', async () => {
    let settings = await startConcatenation('early');
    let r = await cancelOnceWorking(settings, null, 'right after start');
    expect(r.state).toBe('cancelled');
    expect(r.ms).toBeLessThan(2500);
    settings = await startConcatenation('reading');
    r = await cancelOnceWorking(settings, /^Reading the cell and gene tables of big/, 'reading the files');
    expect(r.state).toBe('cancelled');
    expect(r.ms).toBeLessThan(1500);
    expect((await cli<{ stores: unknown[] }>(['list'])).stores).toEqual([]);
  }, STEP_MS);

  it('cancels a concatenation while it copies expression values: the job ends cancelled and no store is created', async () => {
    const settings = await startConcatenation('bigstore');
    // Any of the three files: with blocks queued for the encoding thread, a file's copy can pass
    // in a few milliseconds.
    const { state, phaseSeen, ms } = await cancelOnceWorking(settings, /^Copying the expression values of big\d?\.h5ad, file \d of 3/, 'copying expression values');
    expect(phaseSeen).toMatch(/^Copying the expression values of big\d?\.h5ad/);
    expect(state).toBe('cancelled');
    expect(ms).toBeLessThan(1500);
    const job = settings.getByTestId('job');
    expect(await job.locator('.badge').textContent()).toBe('Cancelled');
    expect(await job.getByRole('button', { name: /Cancel/ }).count()).toBe(0);
    expect(await page.getByTestId('concat-done').count()).toBe(0);
    await screenshot(page, '18-concat-cancelled');

    await nav('Library');
    await page.getByText('No stores yet — concatenate a collection to create one.').waitFor();
    expect((await cli<{ stores: unknown[] }>(['list'])).stores).toEqual([]);
    // Lineage of the collection: three concatenations, each recorded as cancelled.
    const lineage = await cli<{ nodes: { kind: string; label: string }[] }>(['lineage', 'big']);
    expect(lineage.nodes.filter((n) => n.kind === 'run' && n.label.startsWith('concatenate')).map((n) => n.label)).toEqual(['concatenate (cancelled)', 'concatenate (cancelled)', 'concatenate (cancelled)']);
  }, STEP_MS);

  it('cancels a PCA: the job ends cancelled, its run says so and no version is added', async () => {
    // The store itself, made by the CLI while the server runs (they share the home).
    const made = await cli<{ store: { version: number } }>(['concat', '--collection', 'big', '--store', 'bigstore']);
    expect(made.store.version).toBe(1);
    await page.reload();
    await nav('Embeddings');
    await page.getByText('No embeddings in this store yet — compute a PCA above.').waitFor({ timeout: 60_000 });
    await page.getByLabel('Components').fill('100');
    await page.getByRole('button', { name: 'Compute PCA' }).click();
    const form = page.getByRole('form', { name: 'Compute PCA' });
    const { state, phaseSeen } = await cancelOnceWorking(form, /^(Reading expression values \(|Computing components, pass \d)/, 'PCA while computing');
    expect(phaseSeen).toMatch(/^(Reading expression values|Computing components)/);
    expect(state).toBe('cancelled');
    expect(await form.getByTestId('job').locator('.badge').textContent()).toBe('Cancelled');
    expect(await page.getByTestId('pca-done').count()).toBe(0);
    await screenshot(page, '19-pca-cancelled');

    // Nothing was written: one version on the Versions screen and from the CLI, no embedding.
    expect((await cli<{ version: number }[]>(['versions', '--store', 'bigstore'])).map((v) => v.version)).toEqual([1]);
    await nav('Versions');
    await expect.poll(() => page.getByTestId('version-row').count(), { timeout: 30_000 }).toBe(1);
    expect(await page.getByTestId('version-row').first().textContent()).toContain('concatenate');
    await nav('Embeddings');
    await page.getByText('No embeddings in this store yet — compute a PCA above.').waitFor({ timeout: 30_000 });

    // The registry recorded the cancelled run, with its parameters.
    await nav('Lineage');
    await page.locator('[data-testid=lineage-canvas][data-ready=true]').waitFor({ timeout: 30_000 });
    await page.getByRole('navigation', { name: /Lineage items/ }).getByRole('button', { name: /^embed \(cancelled\)/ }).click();
    const details = page.getByTestId('run-details');
    await details.waitFor({ timeout: 30_000 });
    expect(await details.getByTestId('run-status').textContent()).toBe('cancelled');
    expect(await details.getByTestId('run-error').textContent()).toMatch(/\bcancelled\b/);
    expect(await details.getByTestId('run-inputs').getByRole('button').allTextContents()).toEqual(['bigstore v1']);
    expect(await details.getByTestId('run-outputs').textContent()).toBe('none');
    expect(await details.getByTestId('run-params').textContent()).toContain('nComponents: 100');
    await screenshot(page, '20-lineage-cancelled-run');
  }, STEP_MS);
});
