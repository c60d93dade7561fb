// What run.ts sends to a child step (our-step.ts) and what the child prints back.
import type { OurStore } from './ours';

/** The child's last stdout line starts with this, then one JSON object (engine logs may precede it). */
export const RESULT_PREFIX = 'BENCH_RESULT ';

export interface StepRequests {
  b1: { files: string[]; home: string };
  b2: { store: OurStore; file: string };
  b3: { store: OurStore; valueFilter: string; repeats: number };
  b4: { store: OurStore; cellsPath: string; repeats: number };
  b5: { store: OurStore; varIds: string[] };
  b6: { store: OurStore; varIds: string[]; nComponents: number; seed: number; keep: number; scoresOut: string };
  b7: { store: OurStore };
  b8: { store: OurStore; obsFilter: string; pvalsOut: string };
  b9: { store: OurStore; embedding: string; membershipOut: string };
}
export type StepName = keyof StepRequests;

export interface StepFailure {
  ok: false;
  error: string;
  notImplemented: boolean;
  peakRssBytes: number;
}

export interface StepSuccess {
  ok: true;
  /** Seconds of the measured call(s); what is inside depends on the step (see docs/benchmarks.md). */
  seconds: number;
  peakRssBytes: number;
  [detail: string]: unknown;
}

export type StepReport = StepSuccess | StepFailure;

export function parseStepReport(stdout: string): StepReport | undefined {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith(RESULT_PREFIX));
  return line ? (JSON.parse(line.slice(RESULT_PREFIX.length)) as StepReport) : undefined;
}
