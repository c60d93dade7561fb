// A differential expression's table of genes: as CSV (the CLI's --out and the app's export),
// kept in the home after a job (results/de/<id>.json) so the app can page through it and
// export it later, and as Arrow windows for the renderer.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { CellarError } from '../../../shared/errors';
import type { DeResult, DeRow } from '../../../shared/de-types';

export const DE_COLUMNS = ['gene', 'symbol', 'logfc', 'pval', 'padj', 'pct_in', 'pct_out', 'score'] as const;

/** RFC 4180 CSV, one row per gene in rank order; numbers keep every digit (shortest round-trip form). */
export function deRowsToCsv(rows: readonly DeRow[]): string {
  const quote = (s: string | null) => (s === null ? '' : /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [DE_COLUMNS.join(',')];
  for (const r of rows) lines.push([quote(r.gene), quote(r.symbol), r.logfc, r.pval, r.padj, r.pct_in, r.pct_out, r.score].join(','));
  return `${lines.join('\n')}\n`;
}

/** Writes a file through a temporary name, so a reader never sees half of it. */
export function writeFileAtomically(path: string, text: string): void {
  writeFileSync(`${path}.partial`, text);
  renameSync(`${path}.partial`, path);
}

const TABLE_ID = /^de-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function tablePath(home: string, id: string): string {
  // The id comes back from the renderer: only names this module made may become a path.
  if (!TABLE_ID.test(id)) throw new CellarError('usage', `"${id}" does not name a differential expression result.`);
  return join(home, 'results', 'de', `${id}.json`);
}

/** Results kept in the home: a newer one pushes the oldest out, so the folder stays small. */
export const KEPT_DE_RESULTS = 20;

/** Keeps a finished result in the home; returns the id that names it. */
export function saveDeResult(home: string, result: DeResult): string {
  const id = `de-${randomUUID()}`;
  const dir = join(home, 'results', 'de');
  mkdirSync(dir, { recursive: true });
  writeFileAtomically(tablePath(home, id), JSON.stringify(result));
  const kept = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => ({ name, at: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const old of kept.slice(KEPT_DE_RESULTS)) rmSync(join(dir, old.name), { force: true });
  return id;
}

export function loadDeResult(home: string, id: string): DeResult {
  const path = tablePath(home, id);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new CellarError('not_found', 'That differential expression result is no longer kept; run it again.');
  }
  return JSON.parse(text) as DeResult;
}

/** Rows [offset, offset + limit) of a result as Arrow IPC stream bytes. */
export function deRowsToArrow(rows: readonly DeRow[]): Uint8Array {
  const numbers = (pick: (r: DeRow) => number) => Float64Array.from(rows, pick);
  const table = tableFromArrays({
    gene: rows.map((r) => r.gene),
    symbol: rows.map((r) => r.symbol ?? ''),
    logfc: numbers((r) => r.logfc),
    pval: numbers((r) => r.pval),
    padj: numbers((r) => r.padj),
    pct_in: numbers((r) => r.pct_in),
    pct_out: numbers((r) => r.pct_out),
    score: numbers((r) => r.score),
  });
  return tableToIPC(table, 'stream');
}
