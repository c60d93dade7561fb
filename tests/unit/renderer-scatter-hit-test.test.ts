// The scatter plot's hit-test client: with no worker (or one that fails to start) the same
// test runs on the page, so a lasso always selects, and selects the same points.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHitTester } from '../../src/renderer/src/components/scatter-hit-test';
import { selectInBox, selectInPolygon } from '../../src/renderer/src/components/scatter-selection';

const points = Float32Array.from({ length: 2000 }, (_, k) => ((k * 7919) % 1000) / 100);
const polygon = [1, 1, 9, 2, 8, 9, 2, 7];

afterEach(() => vi.unstubAllGlobals());

describe('createHitTester', () => {
  it('tests on the page where there is no Worker', async () => {
    vi.stubGlobal('Worker', undefined);
    const tester = createHitTester();
    const lasso = await tester.test(points, { kind: 'lasso', polygon }, null);
    expect(lasso.where).toBe('page');
    expect(Array.from(lasso.hit)).toEqual(Array.from(selectInPolygon(points, polygon)));
    const eligible = Uint8Array.from({ length: 1000 }, (_, i) => i % 2);
    const box = await tester.test(points, { kind: 'box', x0: 2, y0: 2, x1: 6, y1: 5 }, eligible);
    expect(Array.from(box.hit)).toEqual(Array.from(selectInBox(points, 2, 2, 6, 5, eligible)));
    tester.dispose();
  });

  it('answers on the page what a worker that failed to load still owed, and every later test', async () => {
    const started: FakeWorker[] = [];
    class FakeWorker extends EventTarget {
      posted: unknown[] = [];
      terminated = false;
      constructor() {
        super();
        started.push(this);
      }
      postMessage(message: unknown) {
        this.posted.push(message);
        // As a policy-blocked or missing script does: an error event, after the fact.
        setTimeout(() => this.dispatchEvent(new Event('error')), 0);
      }
      terminate() {
        this.terminated = true;
      }
    }
    vi.stubGlobal('Worker', FakeWorker);
    const tester = createHitTester();
    const first = await tester.test(points, { kind: 'lasso', polygon }, null);
    expect(first.where).toBe('page');
    expect(Array.from(first.hit)).toEqual(Array.from(selectInPolygon(points, polygon)));
    expect(started).toHaveLength(1);
    expect(started[0]!.terminated).toBe(true);
    // The points went first, then the request.
    expect(started[0]!.posted.map((m) => (m as { type: string }).type)).toEqual(['points', 'hit']);
    const second = await tester.test(points, { kind: 'lasso', polygon }, null);
    expect(second.where).toBe('page');
    tester.dispose();
  });
});
