// Worker-side entry for `cellar inspect`: open (any supported format), summarise, always close.
import { inspectDatasetFile } from '../inspect-dataset';
import type { InspectReport } from './inspect';

export async function inspectFile(path: string, options: { signal?: AbortSignal; onProgress?: (progress: { step: true }) => void; onStep?: () => void } = {}): Promise<InspectReport> {
  return inspectDatasetFile(path, { signal: options.signal, onStep: options.onStep ?? (() => options.onProgress?.({ step: true })) });
}

export type InspectOutcome = { ok: true; report: InspectReport } | { ok: false; error: { name: string; code: string; message: string; problems: string[] } };

/**
 * Inspects files one after another in one worker (starting a worker per file costs more than
 * reading most files), reporting after each so the caller's time limit applies per file.
 */
export async function inspectEach(paths: string[], options: { onProgress?: (progress: { done: number }) => void; signal?: AbortSignal } = {}): Promise<InspectOutcome[]> {
  const out: InspectOutcome[] = [];
  for (const path of paths) {
    try {
      // A file read through block by block (Matrix Market) reports each block: the time limit is per step of it.
      out.push({ ok: true, report: await inspectFile(path, { signal: options.signal, onStep: () => options.onProgress?.({ done: out.length }) }) });
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string; problems?: unknown };
      out.push({ ok: false, error: { name: e?.name ?? 'Error', code: e?.code ?? 'internal', message: e?.message ?? String(err), problems: Array.isArray(e?.problems) ? (e.problems as string[]) : [] } });
    }
    options.onProgress?.({ done: out.length });
  }
  return out;
}
