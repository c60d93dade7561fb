// Messages between the scatter plot and its hit-test worker (scatter-hit-worker.ts).

export type HitShape = { kind: 'lasso'; polygon: number[] } | { kind: 'box'; x0: number; y0: number; x1: number; y1: number };

export type HitRequest =
  /** The points every later request tests, n×2 interleaved (a copy: the page keeps its own). */
  | { type: 'points'; points: Float32Array }
  /** Which points lie inside `shape`; points of `eligible` 0 never do. */
  | { type: 'hit'; id: number; shape: HitShape; eligible: Uint8Array | null };

/** Per point 1 when inside; `ms` is the time the test took in the worker. */
export type HitReply = { id: number; hit: Uint8Array; ms: number } | { id: number; error: string };
