// The plot components in Debian's Chromium (software WebGL): a million-point scatter plot
// and the lineage graph, built into a small test page with Vite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import react from '@vitejs/plugin-react';
import { build, preview, type PreviewServer } from 'vite';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchBrowser, screenshot } from './helpers';

const PAGES = join(import.meta.dirname, 'pages');
const MILLION = 1_000_000;
/** Software WebGL on a shared 2-core machine takes seconds per million-point frame. */
const SLOW = 240_000;

let outDir: string;
let server: PreviewServer;
let baseUrl: string;
let browser: Browser;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'cellar-components-'));
  await build({
    configFile: false,
    root: PAGES,
    base: './',
    logLevel: 'warn',
    plugins: [react()],
    worker: { format: 'es' },
    build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 2048, rollupOptions: { input: join(PAGES, 'components.html') } },
  });
  server = await preview({ configFile: false, root: PAGES, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
  baseUrl = server.resolvedUrls!.local[0]!.replace(/\/$/, '');
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

async function openPage(query: string, options: { withoutWebgl?: boolean; deviceScaleFactor?: number } = {}): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1040, height: 720 }, deviceScaleFactor: options.deviceScaleFactor ?? 1 });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    // Chromium notes each GPU stall from reading pixels back: ours (to time a frame) and the software compositor's.
    if (message.text().includes('GL Driver Message')) return;
    if (message.type() === 'error' || message.type() === 'warning') errors.push(message.text());
  });
  if (options.withoutWebgl) {
    await page.addInitScript(() => {
      const getContext = HTMLCanvasElement.prototype.getContext;
      HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement, type: string, ...rest: unknown[]) {
        return type.startsWith('webgl') ? null : (getContext as (...args: unknown[]) => unknown).call(this, type, ...rest);
      } as typeof getContext;
    });
  }
  await page.goto(`${baseUrl}/components.html?${query}`);
  return { page, errors };
}

interface PixelCensus {
  total: number;
  /** Pixels that are not the white background. */
  inked: number;
  /** Distinct colours after dropping the low 3 bits of each channel. */
  colors: number;
  /** A checksum of the picture, to tell two views apart. */
  checksum: number;
}

/** What an element shows on screen, read back from a screenshot of its inside (no border or focus ring). */
async function census(page: Page, element: Locator): Promise<PixelCensus> {
  const box = (await element.boundingBox())!;
  const inset = 4;
  const clip = { x: box.x + inset, y: box.y + inset, width: box.width - 2 * inset, height: box.height - 2 * inset };
  const png = (await page.screenshot({ clip })).toString('base64');
  return page.evaluate(async (data) => {
    const image = new Image();
    image.src = `data:image/png;base64,${data}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d')!;
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, image.width, image.height).data;
    let inked = 0;
    let checksum = 0;
    const colors = new Set<number>();
    for (let i = 0; i < pixels.length; i += 4) {
      const r = pixels[i]!;
      const g = pixels[i + 1]!;
      const b = pixels[i + 2]!;
      checksum = (Math.imul(checksum, 31) + r * 65536 + g * 256 + b) | 0;
      if (r > 245 && g > 245 && b > 245) continue;
      inked++;
      colors.add(((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3));
    }
    return { total: pixels.length / 4, inked, colors: colors.size, checksum };
  }, png);
}

async function frameCount(canvas: Locator): Promise<number> {
  return Number((await canvas.getAttribute('data-frame-count')) ?? 0);
}

/** Waits until the plot has drawn more frames than `after`; returns the last frame's time. */
async function nextFrame(page: Page, after: number): Promise<number> {
  await page.waitForFunction((count) => Number(document.querySelector('canvas')?.dataset.frameCount ?? 0) > count, after, { timeout: 60_000 });
  return Number(await page.locator('canvas').getAttribute('data-frame-ms'));
}

describe('ScatterPlot', () => {
  it('draws a million points coloured by category, with a legend, and reports its frame time', async () => {
    const { page, errors } = await openPage(`view=scatter&n=${MILLION}&colors=category`);
    const canvas = page.getByRole('img', { name: /Scatter plot of 1,000,000 points, coloured by 30 categories/ });
    await canvas.waitFor();
    const firstFrameMs = await nextFrame(page, 0);
    expect(await canvas.getAttribute('data-webgl')).toMatch(/^webgl2?$/);

    const pixels = await census(page, canvas);
    // Thirty clusters cover a good part of the plot, drawn in the 20 palette colours (cycled) and grey.
    expect(pixels.inked / pixels.total).toBeGreaterThan(0.1);
    expect(pixels.colors).toBeGreaterThanOrEqual(20);

    const legend = page.getByRole('complementary', { name: 'Legend' });
    const entries = await legend.getByRole('listitem').allTextContents();
    expect(entries).toHaveLength(31);
    expect(entries[0]).toMatch(/^cell type 1: [\d,]+ points$/);
    expect(entries[30]).toMatch(/^missing: [\d,]+ points$/);
    const counted = entries.reduce((sum, entry) => sum + Number(/: ([\d,]+) points$/.exec(entry)![1]!.replaceAll(',', '')), 0);
    expect(counted).toBe(MILLION);

    const box = (await canvas.boundingBox())!;

    // Zooming redraws; time a few redraws of the full million.
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const redrawMs: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = await frameCount(canvas);
      await page.mouse.wheel(0, i % 2 === 0 ? -120 : 120);
      redrawMs.push(await nextFrame(page, before));
    }
    const sorted = [...redrawMs].sort((a, b) => a - b);
    // Software WebGL: the points are drawn on the CPU into one image.
    expect(await canvas.getAttribute('data-drawing')).toBe('image');
    console.log(`ScatterPlot, 1,000,000 points, headless Chromium (${await canvas.getAttribute('data-webgl')}, SwiftShader, ${await canvas.getAttribute('data-drawing')}): first frame ${firstFrameMs.toFixed(1)} ms; redraws ${redrawMs.map((ms) => ms.toFixed(1)).join(', ')} ms (median ${sorted[3]!.toFixed(1)} ms)`);
    for (const ms of [firstFrameMs, ...redrawMs]) expect(ms).toBeGreaterThan(0);

    await screenshot(page, 'components-scatter-category');
    expect(errors).toEqual([]);
    await page.close();
  }, SLOW);

  it('lassoes a million points, selecting exactly those inside, and reports the latency and pan frame times', async () => {
    const { page, errors } = await openPage(`view=scatter&n=${MILLION}&colors=category&select=1`);
    const canvas = page.getByRole('img', { name: /Scatter plot of 1,000,000 points/ });
    await nextFrame(page, 0);
    await page.getByRole('button', { name: 'Lasso', exact: true }).click();
    const box = (await canvas.boundingBox())!;
    // A 48-sided wobbly ring over the middle of the cloud (the plot must not move as the count appears).
    const vertices = Array.from({ length: 48 }, (_, k) => {
      const angle = (2 * Math.PI * k) / 48;
      const radius = (k % 3 === 0 ? 0.32 : 0.27) * Math.min(box.width, box.height);
      return [Math.round(box.x + box.width * 0.45 + radius * Math.cos(angle)), Math.round(box.y + box.height * 0.5 + radius * Math.sin(angle))] as [number, number];
    });
    const latencies: { hitMs: number; shownMs: number }[] = [];
    for (let round = 0; round < 3; round++) {
      await page.mouse.move(...vertices[0]!);
      await page.mouse.down();
      for (const v of vertices.slice(1)) await page.mouse.move(...v);
      const before = await frameCount(canvas);
      await page.mouse.up();
      await page.waitForFunction((count) => Number(document.querySelector('canvas')?.dataset.frameCount ?? 0) > count && document.querySelector('canvas')?.dataset.selectionShownMs !== undefined, before, { timeout: 60_000 });
      latencies.push({ hitMs: Number(await canvas.getAttribute('data-select-ms')), shownMs: Number(await canvas.getAttribute('data-selection-shown-ms')) });
      // The hit test ran in the module worker (the page's policy allows workers from 'self' only).
      expect(await canvas.getAttribute('data-hit-test')).toBe('worker');
      expect(await canvas.boundingBox()).toEqual(box);
      await page.evaluate(() => delete document.querySelector('canvas')!.dataset.selectionShownMs);
    }
    // The same polygon in data coordinates, counted in the page by a plain ray cast over every edge.
    const expected = await page.evaluate(
      ({ vertices, box }) => {
        const canvasEl = document.querySelector('canvas')!;
        const [x0, x1, y0, y1] = canvasEl.dataset.view!.split(',').map(Number) as [number, number, number, number];
        const polygon = vertices.map(([px, py]) => [x0 + ((px - box.x) / box.width) * (x1 - x0), y1 - ((py - box.y) / box.height) * (y1 - y0)] as const);
        const points = (window as unknown as { scatterPoints: Float32Array }).scatterPoints;
        let count = 0;
        for (let i = 0; i < points.length / 2; i++) {
          const x = points[2 * i]!;
          const y = points[2 * i + 1]!;
          let inside = false;
          for (let a = 0, b = polygon.length - 1; a < polygon.length; b = a++) {
            const [xa, ya] = polygon[a]!;
            const [xb, yb] = polygon[b]!;
            if (ya > y !== yb > y && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) inside = !inside;
          }
          if (inside) count++;
        }
        return count;
      },
      { vertices, box },
    );
    expect(expected).toBeGreaterThan(100_000);
    expect(await page.getByTestId('selection-count').textContent()).toBe(`${expected.toLocaleString('en-US')} selected`);

    // Pan with the selection shown: the frame time of each redraw while dragging.
    await page.getByRole('button', { name: 'Pan', exact: true }).click();
    const panMs: number[] = [];
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    for (let step = 1; step <= 8; step++) {
      const before = await frameCount(canvas);
      await page.mouse.move(box.x + box.width / 2 + step * 15, box.y + box.height / 2 + step * 5);
      panMs.push(await nextFrame(page, before));
    }
    await page.mouse.up();
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
    console.log(
      `Lasso over 1,000,000 points (48 vertices, ${expected.toLocaleString('en-US')} inside), headless Chromium, SwiftShader software WebGL: ` +
        `hit test ${latencies.map((l) => l.hitMs.toFixed(1)).join(', ')} ms; pointer-up to the frame showing it ${latencies.map((l) => l.shownMs.toFixed(0)).join(', ')} ms. ` +
        `Pan frames ${panMs.map((ms) => ms.toFixed(0)).join(', ')} ms (median ${median(panMs).toFixed(0)} ms).`,
    );
    for (const { hitMs, shownMs } of latencies) {
      expect(hitMs).toBeGreaterThan(0);
      expect(shownMs).toBeGreaterThanOrEqual(hitMs);
    }
    await screenshot(page, 'components-scatter-lasso-million');
    expect(errors).toEqual([]);
    await page.close();
  }, SLOW);

  it('draws on the CPU the picture point sprites draw, hidden categories and selection included', async () => {
    const pictures: Record<string, PixelCensus[]> = {};
    for (const drawing of ['points', 'image']) {
      const { page, errors } = await openPage(`view=scatter&n=20000&colors=category&select=1&drawing=${drawing}`);
      const canvas = page.getByRole('img', { name: /Scatter plot of 20,000 points/ });
      await nextFrame(page, 0);
      expect(await canvas.getAttribute('data-drawing')).toBe(drawing);
      const shots = [await census(page, canvas)];
      // Hide a category, then box-select the middle: each changes the picture the same way in both drawings.
      let before = await frameCount(canvas);
      await page.getByTestId('legend-entry').filter({ has: page.locator('.cellar-legend-label', { hasText: /^cell type 1$/ }) }).locator('.cellar-legend-toggle').click();
      await nextFrame(page, before);
      shots.push(await census(page, canvas));
      await page.getByRole('button', { name: 'Box', exact: true }).click();
      const box = (await canvas.boundingBox())!;
      before = await frameCount(canvas);
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.7, { steps: 3 });
      await page.mouse.up();
      await page.waitForFunction((count) => Number(document.querySelector('canvas')?.dataset.frameCount ?? 0) > count && document.querySelector('canvas')?.dataset.selectionShownMs !== undefined, before, { timeout: 60_000 });
      shots.push(await census(page, canvas));
      pictures[drawing] = shots;
      expect(errors).toEqual([]);
      await page.close();
    }
    console.log(`Inked pixels (distinct colours), point sprites vs CPU image: ${[0, 1, 2].map((k) => `${pictures.points![k]!.inked} (${pictures.points![k]!.colors}) vs ${pictures.image![k]!.inked} (${pictures.image![k]!.colors})`).join('; ')}`);
    for (let k = 0; k < 3; k++) {
      const gpu = pictures.points![k]!;
      const cpu = pictures.image![k]!;
      // Same disc per point; edge pixels may round the other way, so the ink agrees to within 0.5%.
      expect(Math.abs(cpu.inked - gpu.inked) / gpu.inked).toBeLessThan(0.005);
      expect(Math.abs(cpu.colors - gpu.colors)).toBeLessThanOrEqual(Math.max(2, gpu.colors * 0.05));
    }
    // Hiding a category takes ink away; the selection greys the rest (more distinct colours).
    expect(pictures.image![1]!.inked).toBeLessThan(pictures.image![0]!.inked);
    expect(pictures.image![2]!.colors).toBeGreaterThan(pictures.image![1]!.colors);
  }, SLOW);

  it('pans with a drag, zooms with the wheel and the buttons, and fits again on double-click', async () => {
    const { page, errors } = await openPage('view=scatter&n=20000&colors=category');
    const canvas = page.getByRole('img', { name: /Scatter plot of 20,000 points/ });
    await nextFrame(page, 0);
    const home = await census(page, canvas);
    const box = (await canvas.boundingBox())!;
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };

    let before = await frameCount(canvas);
    await page.mouse.move(centre.x, centre.y);
    await page.mouse.down();
    await page.mouse.move(centre.x + 200, centre.y + 80, { steps: 4 });
    await page.mouse.up();
    await nextFrame(page, before);
    const panned = await census(page, canvas);
    expect(panned.checksum).not.toBe(home.checksum);

    before = await frameCount(canvas);
    await page.mouse.dblclick(centre.x, centre.y);
    await nextFrame(page, before);
    expect((await census(page, canvas)).checksum).toBe(home.checksum);

    // Zooming in far enough leaves less of the plot inked than the fitted view.
    for (let i = 0; i < 3; i++) {
      before = await frameCount(canvas);
      await page.getByRole('button', { name: 'Zoom in' }).click();
      await nextFrame(page, before);
    }
    const zoomed = await census(page, canvas);
    expect(zoomed.checksum).not.toBe(home.checksum);

    before = await frameCount(canvas);
    await page.getByRole('button', { name: 'Fit all points' }).click();
    await nextFrame(page, before);
    expect((await census(page, canvas)).checksum).toBe(home.checksum);

    // The keyboard does the same: arrows pan, + zooms, 0 fits.
    await canvas.focus();
    for (const key of ['ArrowLeft', '+']) {
      before = await frameCount(canvas);
      await page.keyboard.press(key);
      await nextFrame(page, before);
      expect((await census(page, canvas)).checksum).not.toBe(home.checksum);
    }
    before = await frameCount(canvas);
    await page.keyboard.press('0');
    await nextFrame(page, before);
    expect((await census(page, canvas)).checksum).toBe(home.checksum);
    expect(errors).toEqual([]);
    await page.close();
  }, SLOW);

  it('colours by a numeric value with a colour bar from min to max', async () => {
    const { page, errors } = await openPage(`view=scatter&n=${MILLION}&colors=numeric`);
    const canvas = page.getByRole('img', { name: /Scatter plot of 1,000,000 points, coloured from [\d.]+ to [\d.]+/ });
    await canvas.waitFor();
    await nextFrame(page, 0);
    const pixels = await census(page, canvas);
    expect(pixels.inked / pixels.total).toBeGreaterThan(0.1);
    const legend = page.getByRole('complementary', { name: 'Legend' });
    const ticks = (await legend.locator('.cellar-colorbar-ticks span').allTextContents()).map(Number);
    expect(ticks).toHaveLength(3);
    expect(ticks[0]!).toBeGreaterThan(ticks[1]!);
    expect(ticks[1]!).toBeGreaterThan(ticks[2]!);
    expect(await legend.textContent()).toMatch(/NaN: [\d,]+/);
    await screenshot(page, 'components-scatter-numeric');
    expect(errors).toEqual([]);
    await page.close();
  }, SLOW);

  it('sizes its drawing buffer to its box times the pixel density, following the container', async () => {
    const { page, errors } = await openPage('view=scatter&n=20000&colors=category', { deviceScaleFactor: 2 });
    const canvas = page.getByRole('img', { name: /Scatter plot of 20,000 points/ });
    await nextFrame(page, 0);
    // Buffer size and the content box (inside the 1 px border) in device pixels.
    const sizes = () =>
      canvas.evaluate((element) => {
        const canvas = element as HTMLCanvasElement;
        return { buffer: [canvas.width, canvas.height], content: [canvas.clientWidth * 2, canvas.clientHeight * 2] };
      });
    const box = (await canvas.boundingBox())!;
    expect(box.height).toBe(480);
    const wide = await sizes();
    expect(wide.buffer).toEqual(wide.content);
    expect(wide.buffer[1]).toBe(2 * 478);

    const frames = await frameCount(canvas);
    await page.evaluate(() => (document.body.style.width = '600px'));
    await nextFrame(page, frames);
    const narrow = await sizes();
    expect(narrow.buffer).toEqual(narrow.content);
    expect(narrow.buffer[0]).toBeLessThan(wide.buffer[0]! - 600);
    expect((await census(page, canvas)).inked).toBeGreaterThan(1000);
    expect(errors).toEqual([]);
    await page.close();
  }, SLOW);

  it('survives losing its WebGL context and draws the same picture once it is restored', async () => {
    const { page, errors } = await openPage('view=scatter&n=20000&colors=numeric');
    const canvas = page.getByRole('img', { name: /Scatter plot of 20,000 points/ });
    await nextFrame(page, 0);
    const before = await census(page, canvas);
    const loseContext = (action: 'loseContext' | 'restoreContext') =>
      page.evaluate((method) => {
        const element = document.querySelector('canvas')!;
        const gl = element.getContext(element.dataset.webgl as 'webgl2')!;
        (window as unknown as { loser: WEBGL_lose_context }).loser ??= gl.getExtension('WEBGL_lose_context')!;
        (window as unknown as { loser: WEBGL_lose_context }).loser[method]();
      }, action);
    await loseContext('loseContext');
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/graphics context was lost/);
    // A lost context hides the canvas (and its accessible name) behind the message.
    const frames = await frameCount(page.locator('canvas'));
    await loseContext('restoreContext');
    await nextFrame(page, frames);
    expect(await page.getByRole('status').count()).toBe(0);
    expect((await census(page, canvas)).checksum).toBe(before.checksum);
    expect(errors).toEqual([]);
    await page.close();
  }, SLOW);

  it('says so when WebGL is unavailable', async () => {
    const { page } = await openPage('view=scatter&n=5000&colors=category', { withoutWebgl: true });
    await expect.poll(() => page.getByRole('status').textContent()).toBe('This plot needs WebGL, which is not available here, so its 5,000 points cannot be drawn.');
    expect(await page.getByRole('button', { name: 'Zoom in' }).isDisabled()).toBe(true);
    await screenshot(page, 'components-scatter-no-webgl');
    await page.close();
  }, SLOW);
});

describe('LineageGraph', () => {
  it('lays out the DAG left to right and opens a node when it is clicked', async () => {
    const { page, errors } = await openPage('view=lineage');
    const graph = page.getByTestId('lineage-canvas');
    await page.waitForSelector('[data-testid="lineage-canvas"][data-ready="true"]');
    await expect.poll(async () => (await census(page, graph)).inked).toBeGreaterThan(1000);

    // Where cytoscape put each node, in page pixels (the instance hangs off its container).
    const positions = await graph.evaluate((container) => {
      const cy = (container as HTMLElement & { _cyreg: { cy: { nodes(): Array<{ id(): string; renderedPosition(): { x: number; y: number } }> } } })._cyreg.cy;
      const origin = container.getBoundingClientRect();
      return Object.fromEntries(cy.nodes().map((node) => [node.id(), { x: origin.left + node.renderedPosition().x, y: origin.top + node.renderedPosition().y }]));
    });
    expect(Object.keys(positions).sort()).toEqual(['art-a', 'art-b', 'art-c', 'art-old', 'coll', 'run-append', 'run-concat', 'run-embed', 'run-export', 'store-1', 'store-2']);
    // Edges run input → run → output from left to right.
    const chain = ['art-a', 'coll', 'run-concat', 'store-1', 'run-append', 'store-2', 'run-embed'];
    for (let i = 1; i < chain.length; i++) expect(positions[chain[i]!]!.x).toBeGreaterThan(positions[chain[i - 1]!]!.x);
    expect(positions['run-export']!.x).toBeGreaterThan(positions['store-2']!.x);
    const graphBox = (await graph.boundingBox())!;
    for (const { x, y } of Object.values(positions)) {
      expect(x).toBeGreaterThan(graphBox.x);
      expect(x).toBeLessThan(graphBox.x + graphBox.width);
      expect(y).toBeGreaterThan(graphBox.y);
      expect(y).toBeLessThan(graphBox.y + graphBox.height);
    }
    await screenshot(page, 'components-lineage');

    const opened = page.getByTestId('opened');
    await page.mouse.click(positions['store-2']!.x, positions['store-2']!.y);
    await expect.poll(() => opened.textContent()).toBe('store-2');
    await page.mouse.click(positions['run-embed']!.x, positions['run-embed']!.y);
    await expect.poll(() => opened.textContent()).toBe('run-embed');
    expect(errors).toEqual([]);
    await page.close();
  }, SLOW);

  it('lists every node as a button, upstream first, that opens it from the keyboard', async () => {
    const { page } = await openPage('view=lineage');
    const list = page.getByRole('navigation', { name: 'Lineage items, upstream first' });
    const buttons = list.getByRole('button');
    await expect.poll(() => buttons.count()).toBe(11);
    const ids = await buttons.evaluateAll((elements) => elements.map((element) => element.getAttribute('data-node-id')));
    expect(ids.slice(0, 4)).toEqual(['art-a', 'art-b', 'art-c', 'art-old']);
    expect(ids.slice(4)).toEqual(['coll', 'run-concat', 'store-1', 'run-append', 'store-2', 'run-embed', 'run-export']);
    expect(await list.getByRole('button', { name: /pbmc v1 \(deleted\).*array store, deleted/ }).count()).toBe(1);

    await list.getByRole('button', { name: /^pbmc-collection/ }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('opened').textContent()).toBe('coll');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await expect.poll(() => page.getByTestId('opened').textContent()).toBe('run-concat');
    await page.close();
  }, SLOW);
});
