// The scatter plot's lasso and box hit test, off the page's thread: a million points take tens
// of milliseconds, which the page spends drawing instead. Same functions as the page's own
// fallback (scatter-selection.ts), so both select exactly the same points.
import type { HitReply, HitRequest } from './scatter-hit-protocol';
import { selectInBox, selectInPolygon } from './scatter-selection';

let points: Float32Array = new Float32Array(0);

self.addEventListener('message', (event: MessageEvent<HitRequest>) => {
  const request = event.data;
  if (request.type === 'points') {
    points = request.points;
    return;
  }
  let reply: HitReply;
  try {
    const started = performance.now();
    const { shape, eligible } = request;
    const hit = shape.kind === 'box' ? selectInBox(points, shape.x0, shape.y0, shape.x1, shape.y1, eligible) : selectInPolygon(points, shape.polygon, eligible);
    reply = { id: request.id, hit, ms: performance.now() - started };
    self.postMessage(reply, { transfer: [hit.buffer] });
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
    self.postMessage(reply);
  }
});
