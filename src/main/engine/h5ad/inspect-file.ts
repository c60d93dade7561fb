// Worker-side entry for `cellar inspect`: open, summarise, always close.
import { openH5ad } from './reader';
import { inspectH5ad, type InspectReport } from './inspect';

export async function inspectFile(path: string): Promise<InspectReport> {
  const file = await openH5ad(path);
  try {
    return inspectH5ad(file);
  } finally {
    file.close();
  }
}

/** Inspects several files, one outcome each (used to read many untrusted files in one worker). */
export async function inspectFiles(paths: string[]): Promise<({ ok: true; n_obs: number; n_vars: number } | { ok: false; code: string; message: string })[]> {
  const out: ({ ok: true; n_obs: number; n_vars: number } | { ok: false; code: string; message: string })[] = [];
  for (const path of paths) {
    try {
      const report = await inspectFile(path);
      out.push({ ok: true, n_obs: report.n_obs, n_vars: report.n_vars });
    } catch (err) {
      const e = err as { code?: string; message?: string; name?: string };
      out.push({ ok: false, code: e.name === 'CellarError' ? (e.code ?? 'internal') : `uncaught:${e.name ?? 'Error'}`, message: e.message ?? String(err) });
    }
  }
  return out;
}

export type InspectOutcome = { ok: true; report: InspectReport } | { ok: false; error: { name: string; code: string; message: string; problems: string[] } };

/**
 * Inspects files one after another in one worker (starting a worker per file costs more than
 * reading most files), reporting after each so the caller's time limit applies per file.
 */
export async function inspectEach(paths: string[], options: { onProgress?: (progress: { done: number }) => void } = {}): Promise<InspectOutcome[]> {
  const out: InspectOutcome[] = [];
  for (const path of paths) {
    try {
      out.push({ ok: true, report: await inspectFile(path) });
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string; problems?: unknown };
      out.push({ ok: false, error: { name: e?.name ?? 'Error', code: e?.code ?? 'internal', message: e?.message ?? String(err), problems: Array.isArray(e?.problems) ? (e.problems as string[]) : [] } });
    }
    options.onProgress?.({ done: out.length });
  }
  return out;
}
