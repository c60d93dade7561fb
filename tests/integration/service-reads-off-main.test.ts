// The concatenation plan and the append preflight read h5ad files: the service runs them in a
// worker under the read time limit, never on the thread that serves the window (a damaged or
// huge file must not freeze the app, and dropped files get the same limit as any other read).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService, type Service } from '../../src/main/service/handlers';
import { runHandler, type Handler } from '../../src/main/ipc/handle';
import type { Channel, RequestOf } from '../../src/shared/contract';
import { cellar } from './helpers/cellar';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'h5ad');
let home: string;
const files = new Map<string, string>();

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'cellar-offmain-'));
  const imported = cellar(['import', join(FIXTURES, 'raw.h5ad'), '--collection', 'c'], { home });
  expect(imported.code, imported.stderr).toBe(0);
  const made = cellar(['concat', '--collection', 'c', '--store', 's'], { home });
  expect(made.code, made.stderr).toBe(0);
  files.set('t1', join(FIXTURES, 'raw.h5ad'));
}, 120_000);

afterAll(() => rmSync(home, { recursive: true, force: true }));

const call = <K extends Channel>(service: Service, channel: K, request: RequestOf<K>) => runHandler(service.handlers[channel] as Handler<K>, service.validators[channel] as (p: unknown) => RequestOf<K>, request);

describe('reads of h5ad files in the service', () => {
  it('answer the plan and the preflight from a worker', async () => {
    const service = createService({ home, mode: 'desktop', version: '0', files });
    try {
      // The main thread stays free while they run: a timer keeps firing.
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      const [plan, preflight] = await Promise.all([call(service, 'concat:plan', { collectionKey: 'c' }), call(service, 'append:preflight', { storeKey: 's', fileTokens: ['t1'], makeUnique: true })]);
      clearInterval(timer);
      expect(plan).toMatchObject({ ok: true, value: { n_obs: 9, problems: [] } });
      expect(preflight).toMatchObject({ ok: true, value: { n_new_obs: 9, problems: [] } });
      expect(ticks).toBeGreaterThan(3);
    } finally {
      service.close();
    }
  }, 120_000);

  it('give up at the read time limit, with the message a user sees', async () => {
    const service = createService({ home, mode: 'desktop', version: '0', files, readTimeoutMs: 1 });
    try {
      const plan = await call(service, 'concat:plan', { collectionKey: 'c' });
      expect(plan).toEqual({ ok: false, error: { code: 'timeout', message: 'Gave up planning the concatenation of c after 1 ms, the read time limit (CELLAR_READ_TIMEOUT_MS, default 120 s). A large file on a slow disk needs a higher limit; a small file that takes this long may be damaged.' } });
      const preflight = await call(service, 'append:preflight', { storeKey: 's', fileTokens: ['t1'] });
      expect(preflight).toMatchObject({ ok: false, error: { code: 'timeout', message: expect.stringMatching(/^Gave up reading .*raw\.h5ad after 1 ms, the read time limit \(CELLAR_READ_TIMEOUT_MS, default 120 s\)\. /) } });
    } finally {
      service.close();
    }
  }, 120_000);
});
