// The attack the issue found, in a real browser: a page served from another port of
// 127.0.0.1, in the same browser as the Cellar page, tries to change the home.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../e2e/helpers';
import { cellar, datasetPicture, FIXTURE, startServe, type Served } from './helpers';

let root: string;
let home: string;
let served: Served;
let browser: Browser;
let context: BrowserContext;
let evil: Server;
let evilOrigin: string;
const evilSawCookies: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cellar-browser-attack-'));
  home = join(root, 'home');
  mkdirSync(home);
  expect(cellar(['import', FIXTURE, '--collection', 'pbmc', '--home', home, '--json']).status).toBe(0);
  served = await startServe(home);
  evil = createServer((req, res) => {
    if (req.headers.cookie) evilSawCookies.push(req.headers.cookie);
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>evil</title><p>nothing to see</p>');
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  evilOrigin = `http://127.0.0.1:${(evil.address() as { port: number }).port}`;
  browser = await launchBrowser();
  context = await browser.newContext();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await new Promise((resolve) => evil?.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

describe('a page from another port of the same host, in the same browser', () => {
  let cellarPage: Page;
  let evilPage: Page;
  let before: string[];

  it('the Cellar page keeps its token out of cookies and out of the address bar', async () => {
    cellarPage = await context.newPage();
    await cellarPage.goto(served.url);
    await cellarPage.getByTestId('collection').first().waitFor();
    expect(cellarPage.url()).toBe(`${served.origin}/`);
    expect(await context.cookies()).toEqual([]);
    expect(await cellarPage.evaluate(() => document.cookie)).toBe('');
    expect(await cellarPage.evaluate(() => sessionStorage.getItem('cellar-token'))).toBe(served.token);
    // A reload keeps working: the tab still has the token, the address never shows it again.
    await cellarPage.reload();
    await cellarPage.getByTestId('collection').first().waitFor();
    expect(await cellarPage.getByTestId('collection-key').allTextContents()).toEqual(['pbmc']);
    before = datasetPicture(root);
  });

  it('the other server receives no Cellar cookie', async () => {
    evilPage = await context.newPage();
    await evilPage.goto(evilOrigin);
    expect(evilSawCookies).toEqual([]);
    expect(await evilPage.evaluate(() => sessionStorage.getItem('cellar-token'))).toBeNull();
  });

  it('a cross-site form post is refused (403) and changes nothing', async () => {
    const target = `${served.origin}/api/invoke/concat:start`;
    const [response] = await Promise.all([
      evilPage.waitForResponse((r) => r.url() === target),
      evilPage.evaluate((action) => {
        const form = document.createElement('form');
        form.method = 'POST';
        form.action = action;
        form.enctype = 'text/plain';
        const input = document.createElement('input');
        input.name = '{"collectionKey":"pbmc","storeKey":"made-by-attacker","x":"';
        input.value = '"}';
        form.append(input);
        document.body.append(form);
        form.submit();
      }, target),
    ]);
    expect(response.status()).toBe(403);
    expect(await response.json()).toEqual({ ok: false, error: { code: 'usage', message: 'Cellar answers only its own page.' } });
    await new Promise((r) => setTimeout(r, 500));
    expect(datasetPicture(root)).toEqual(before);
    await evilPage.goto(evilOrigin);
  });

  it('a no-cors fetch post is refused, and its answer withheld from the page (Cross-Origin-Resource-Policy)', async () => {
    const target = `${served.origin}/api/invoke/concat:start`;
    const [request, outcome] = await Promise.all([
      evilPage.waitForEvent('requestfailed', (r) => r.url() === target),
      evilPage.evaluate(
        (url) =>
          fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ collectionKey: 'pbmc', storeKey: 'made-by-attacker' }) }).then(
            (r) => r.type,
            (e: Error) => `failed: ${e.name}`,
          ),
        target,
      ),
    ]);
    expect(request.failure()?.errorText).toBe('net::ERR_BLOCKED_BY_RESPONSE.NotSameOrigin');
    expect(outcome).toBe('failed: TypeError');
    await new Promise((r) => setTimeout(r, 500));
    expect(datasetPicture(root)).toEqual(before);
  });

  it('a fetch with a guessed token header never gets past the preflight', async () => {
    const outcome = await evilPage.evaluate(
      (url) =>
        fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Cellar-Token': 'guess' }, body: '{}' }).then(
          (r) => `answered ${r.status}`,
          (e: Error) => `failed: ${e.name}`,
        ),
      `${served.origin}/api/invoke/library:list`,
    );
    expect(outcome).toBe('failed: TypeError');
  });

  it('reading the event stream or opening a WebSocket from there fails', async () => {
    const outcome = await evilPage.evaluate(
      (origin) =>
        new Promise<string[]>((resolve) => {
          const seen: string[] = [];
          const ws = new WebSocket(`${origin.replace('http', 'ws')}/api/events`);
          ws.onopen = () => seen.push('websocket open');
          ws.onerror = () => {
            seen.push('websocket error');
            const source = new EventSource(`${origin}/api/events`);
            source.onopen = () => seen.push('events open');
            source.onerror = () => {
              seen.push('events error');
              source.close();
              resolve(seen);
            };
          };
        }),
      served.origin,
    );
    expect(outcome).toEqual(['websocket error', 'events error']);
    expect(datasetPicture(root)).toEqual(before);
  });

  it('the Cellar page still works after all that', async () => {
    await cellarPage.bringToFront();
    await cellarPage.reload();
    await cellarPage.getByTestId('collection').first().waitFor();
    expect(await cellarPage.getByTestId('collection-key').allTextContents()).toEqual(['pbmc']);
    expect(evilSawCookies).toEqual([]);
  });
});
