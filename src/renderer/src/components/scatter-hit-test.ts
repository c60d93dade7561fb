// Runs the scatter plot's lasso and box hit tests in a module worker (scatter-hit-worker.ts),
// so the page keeps drawing while a million points are tested. Where no worker can start
// (no Worker, a policy that forbids it, a worker that failed), the same test runs on the page.
import type { HitReply, HitRequest, HitShape } from './scatter-hit-protocol';
import { selectInBox, selectInPolygon } from './scatter-selection';

export type { HitShape } from './scatter-hit-protocol';

export interface HitResult {
  /** Per point, 1 when inside the shape. */
  hit: Uint8Array;
  /** Time the test itself took, in milliseconds. */
  ms: number;
  /** Where it ran. */
  where: 'worker' | 'page';
}

export interface HitTester {
  /** Hands the worker its copy of the points ahead of the first test (tests send them anyway). */
  setPoints(points: Float32Array): void;
  /** Which of `points` lie inside `shape`; points of `eligible` 0 never do. */
  test(points: Float32Array, shape: HitShape, eligible: Uint8Array | null): Promise<HitResult>;
  dispose(): void;
}

function testOnPage(points: Float32Array, shape: HitShape, eligible: Uint8Array | null): HitResult {
  const started = performance.now();
  const hit = shape.kind === 'box' ? selectInBox(points, shape.x0, shape.y0, shape.x1, shape.y1, eligible) : selectInPolygon(points, shape.polygon, eligible);
  return { hit, ms: performance.now() - started, where: 'page' };
}

function startWorker(): Worker | null {
  if (typeof Worker === 'undefined') return null;
  try {
    return new Worker(new URL('./scatter-hit-worker.ts', import.meta.url), { type: 'module', name: 'scatter-hit-test' });
  } catch {
    return null; // e.g. a content security policy without worker-src 'self'
  }
}

export function createHitTester(): HitTester {
  let worker = startWorker();
  /** The points the worker holds (it copied them), so each array is sent once. */
  let sentPoints: Float32Array | null = null;
  let nextId = 1;
  const pending = new Map<number, { points: Float32Array; shape: HitShape; eligible: Uint8Array | null; resolve(result: HitResult): void }>();

  /** The worker is gone (it failed to load or threw): what it still owed is answered on the page. */
  const abandonWorker = () => {
    worker?.terminate();
    worker = null;
    sentPoints = null;
    for (const { points, shape, eligible, resolve } of pending.values()) resolve(testOnPage(points, shape, eligible));
    pending.clear();
  };
  if (worker) {
    worker.addEventListener('message', (event: MessageEvent<HitReply>) => {
      const reply = event.data;
      const request = pending.get(reply.id);
      if (!request) return;
      pending.delete(reply.id);
      if ('error' in reply) request.resolve(testOnPage(request.points, request.shape, request.eligible));
      else request.resolve({ hit: reply.hit, ms: reply.ms, where: 'worker' });
    });
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      abandonWorker();
    });
    worker.addEventListener('messageerror', abandonWorker);
  }

  const sendPoints = (points: Float32Array) => {
    if (!worker || sentPoints === points) return;
    worker.postMessage({ type: 'points', points } satisfies HitRequest);
    sentPoints = points;
  };

  return {
    setPoints(points) {
      try {
        sendPoints(points);
      } catch {
        abandonWorker();
      }
    },
    test(points, shape, eligible) {
      if (!worker) return Promise.resolve(testOnPage(points, shape, eligible));
      return new Promise<HitResult>((resolve) => {
        const id = nextId++;
        pending.set(id, { points, shape, eligible, resolve });
        try {
          sendPoints(points);
          worker!.postMessage({ type: 'hit', id, shape, eligible } satisfies HitRequest);
        } catch {
          abandonWorker();
        }
      });
    },
    dispose() {
      worker?.terminate();
      worker = null;
      pending.clear();
    },
  };
}
