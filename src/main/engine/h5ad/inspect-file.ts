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
