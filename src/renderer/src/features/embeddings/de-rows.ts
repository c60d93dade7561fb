// The differential expression table in the page: rows decoded from de:table's Arrow windows,
// sorted and searched in memory (a store has tens of thousands of genes at most).
import { tableFromIPC } from 'apache-arrow';
import type { DeRow } from '../../../../shared/contract';
import { compareNatural } from '../../../../shared/natural-sort';

export type DeColumn = 'gene' | 'symbol' | 'logfc' | 'pval' | 'padj' | 'pct_in' | 'pct_out' | 'score';

export function decodeDeRows(arrow: Uint8Array): DeRow[] {
  const table = tableFromIPC(arrow);
  const column = (name: string) => table.getChild(name)!.toArray() as ArrayLike<unknown>;
  const gene = column('gene');
  const symbol = column('symbol');
  const numbers = ['logfc', 'pval', 'padj', 'pct_in', 'pct_out', 'score'].map((name) => column(name) as ArrayLike<number>);
  return Array.from({ length: table.numRows }, (_, i) => ({
    gene: String(gene[i]),
    symbol: symbol[i] ? String(symbol[i]) : null,
    logfc: numbers[0]![i]!,
    pval: numbers[1]![i]!,
    padj: numbers[2]![i]!,
    pct_in: numbers[3]![i]!,
    pct_out: numbers[4]![i]!,
    score: numbers[5]![i]!,
  }));
}

/** Rows whose gene id or symbol contains the text (any case), in the order asked for; the engine's order (best first) when none. */
export function viewDeRows(rows: readonly DeRow[], search: string, sort: { column: DeColumn; descending: boolean } | null): DeRow[] {
  const needle = search.trim().toLowerCase();
  const kept = needle ? rows.filter((r) => r.gene.toLowerCase().includes(needle) || (r.symbol ?? '').toLowerCase().includes(needle)) : rows.slice();
  if (!sort) return kept;
  const { column, descending } = sort;
  const sign = descending ? -1 : 1;
  return kept.sort((a, b) => {
    const x = a[column];
    const y = b[column];
    if (typeof x === 'number' && typeof y === 'number') {
      // NaN last either way.
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
      return sign * (x - y);
    }
    if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
    return sign * compareNatural(String(x), String(y));
  });
}
