// What a differential expression between two groups of cells hands back (the CLI's --json and
// the 'de' job). Plain records with no Node imports.

export type DeMethod = 'wilcoxon' | 't-test';

/** One gene's result. pct_in / pct_out are fractions (0..1) of the cells with a value > 0. */
export interface DeRow {
  gene: string;
  symbol: string | null;
  logfc: number;
  pval: number;
  padj: number;
  pct_in: number;
  pct_out: number;
  /** Wilcoxon: the tie-corrected z of the rank sum; t-test: Welch's t. Positive = higher in the group. */
  score: number;
}

export interface DeSummary {
  store: { uid: string; key: string; version: number };
  method: DeMethod;
  layer: string;
  group: { label: string; n_cells: number };
  reference: { label: string; n_cells: number };
  /** log-normalized: counts per 10,000 then log1p, per cell; as-stored: the layer was not counts. */
  values: 'log-normalized' | 'as-stored';
  n_genes: number;
  /** Sentences about how the result was made (values not counts, genes that could not be tested). */
  notices: string[];
}

/** Every gene, best first (highest score first). */
export interface DeResult extends DeSummary {
  results: DeRow[];
}

/** The job's result: the summary and the top genes; the full table is kept in the home under `table`. */
export interface DeJobResult extends DeSummary {
  top: DeRow[];
  /** Names the saved table for de:table and de:export. */
  table: string;
}
