import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { openRegistry } from '../../src/main/registry/registry';
import { launchBrowser, screenshot, serve, type Served } from './helpers';

let served: Served;
let browser: Browser;
let home: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cellar-e2e-'));
  const reg = openRegistry(home);
  reg.createCollection({ key: 'pbmc-collection', members: [] });
  reg.close();
  served = await serve(home);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('browser mode', () => {
  it('opens the Library of the home with the printed URL', async () => {
    const page = await browser.newPage();
    await page.goto(served.url);
    await page.getByTestId('collection').first().waitFor();
    expect(await page.getByTestId('collection-key').allTextContents()).toEqual(['pbmc-collection']);
    expect(await page.getByTestId('collection-size').allTextContents()).toEqual(['0 files']);
    expect(page.url()).not.toContain('token=');
    await screenshot(page, '00-library-empty');
  });
});
