// Genes of a store version by name: a name the user types is a var id first, then a symbol
// (from the var column the manifest records as holding symbols). Also the feature presence
// table: which datasets measured a gene, so a reader can say "not measured" instead of 0.
import { CellarError } from '../../../shared/errors';
import { stringAt } from '../columns/conversions';
import type { GeneNaming } from './format/manifest';
import type { FilterAst, FilterLiteral, FilterNode } from './filter/index';
import type { Column } from '../columns/column-model';
import type { FrameReader, StoreReader } from './store-reader';

/** Var columns that usually hold gene symbols, in the order they are looked for (case-insensitive). */
export const SYMBOL_COLUMN_NAMES = ['gene_symbol', 'gene_symbols', 'feature_name', 'symbol', 'symbols', 'gene_name', 'gene_names', 'gene', 'genes', 'gene_ids_symbol'];

export function detectSymbolColumn(columnNames: readonly string[]): string | null {
  for (const wanted of SYMBOL_COLUMN_NAMES) {
    const found = columnNames.find((c) => c.toLowerCase() === wanted);
    if (found !== undefined) return found;
  }
  return null;
}

/** What the manifest says about the genes; older stores get the symbol column detected now and exact matching. */
export function geneNamingOf(reader: StoreReader, measurement: string): GeneNaming {
  const recorded = reader.manifest.ms[measurement]?.genes;
  if (recorded) return recorded;
  return { symbolColumn: detectSymbolColumn(reader.var(measurement).columnNames), match: 'exact', join: 'outer' };
}

const ENSEMBL_VERSIONED = /^(ENS[A-Z]*[GT]\d{6,})\.\d+$/;

/** An Ensembl id without its version suffix (ENSG00000141510.17 → ENSG00000141510); other ids unchanged. */
export function unversionedId(id: string): string {
  const m = ENSEMBL_VERSIONED.exec(id);
  return m ? m[1]! : id;
}

export interface GeneMatch {
  joinid: number;
  id: string;
  symbol: string | null;
}

/** Var ids and symbols of one measurement, looked up by name. */
export class GeneIndex {
  readonly symbolColumn: string | null;
  private readonly ids: string[];
  private readonly symbols: (string | null)[];
  private byId: Map<string, number> | null = null;
  private bySymbol: Map<string, number[]> | null = null;
  private byUnversioned: Map<string, number[]> | null = null;

  constructor(frame: FrameReader, symbolColumn: string | null, private readonly storeLabel: string) {
    const idColumn = frame.column('var_id');
    const n = frame.nRows;
    this.ids = new Array<string>(n);
    for (let g = 0; g < n; g++) this.ids[g] = idColumn ? (stringAt(idColumn, g) ?? String(g)) : String(g);
    const symbols = symbolColumn ? frame.column(symbolColumn) : undefined;
    this.symbolColumn = symbols ? symbolColumn : null;
    this.symbols = new Array<string | null>(n);
    for (let g = 0; g < n; g++) this.symbols[g] = symbols ? stringAt(symbols, g) : null;
  }

  /** The index of a store version; messages name the store by its key (from the manifest) unless told otherwise. */
  static of(reader: StoreReader, measurement: string, storeLabel?: string): GeneIndex {
    const key = reader.manifest.meta.storeKey;
    const label = storeLabel ?? (typeof key === 'string' ? `store ${key}` : `store version ${reader.version}`);
    return new GeneIndex(reader.var(measurement), geneNamingOf(reader, measurement).symbolColumn, label);
  }

  get size(): number {
    return this.ids.length;
  }

  id(g: number): string {
    return this.ids[g]!;
  }

  symbol(g: number): string | null {
    return this.symbols[g]!;
  }

  private idMap(): Map<string, number> {
    if (!this.byId) {
      this.byId = new Map();
      this.ids.forEach((id, g) => this.byId!.set(id, g));
    }
    return this.byId;
  }

  private symbolMap(): Map<string, number[]> {
    if (!this.bySymbol) {
      this.bySymbol = new Map();
      this.symbols.forEach((s, g) => {
        if (s === null || s === '') return;
        const list = this.bySymbol!.get(s);
        if (list) list.push(g);
        else this.bySymbol!.set(s, [g]);
      });
    }
    return this.bySymbol;
  }

  private unversionedMap(): Map<string, number[]> {
    if (!this.byUnversioned) {
      this.byUnversioned = new Map();
      this.ids.forEach((id, g) => {
        const key = unversionedId(id);
        if (key === id) return;
        const list = this.byUnversioned!.get(key);
        if (list) list.push(g);
        else this.byUnversioned!.set(key, [g]);
      });
    }
    return this.byUnversioned;
  }

  /**
   * A gene by id, else by symbol; an Ensembl id also finds the store's id with another version
   * suffix when only one does. Unknown and ambiguous names are errors that say what to type.
   */
  resolve(name: string): number {
    const exact = this.idMap().get(name);
    if (exact !== undefined) return exact;
    const bySymbol = this.symbolMap().get(name);
    if (bySymbol?.length === 1) return bySymbol[0]!;
    if (bySymbol && bySymbol.length > 1) {
      const ids = bySymbol.map((g) => this.ids[g]!);
      throw new CellarError('not_found', `The gene symbol ${name} is ambiguous in ${this.storeLabel}: it names ${ids.length} genes (${ids.join(', ')}); ask for one by its id.`);
    }
    const unversioned = this.unversionedMap().get(unversionedId(name));
    if (unversioned?.length === 1) return unversioned[0]!;
    const where = this.symbolColumn ? `as a var id or a gene symbol (var column ${this.symbolColumn})` : 'as a var id (the store has no gene symbol column)';
    throw new CellarError('not_found', `There is no gene ${name} in ${this.storeLabel} ${where}.`);
  }

  /** Ids and symbols starting with `prefix` (case-insensitive): exact matches first, then the others ordered by what matched. */
  search(prefix: string, limit: number): GeneMatch[] {
    const wanted = prefix.toLowerCase();
    const exact: number[] = [];
    const starts: { g: number; key: string }[] = [];
    for (let g = 0; g < this.ids.length; g++) {
      const id = this.ids[g]!.toLowerCase();
      const symbol = this.symbols[g]?.toLowerCase() ?? '';
      if (id === wanted || symbol === wanted) exact.push(g);
      // Listed by the name the user is typing: ids by id, symbols by symbol.
      else if (id.startsWith(wanted)) starts.push({ g, key: this.ids[g]! });
      else if (symbol.startsWith(wanted)) starts.push({ g, key: this.symbols[g]! });
    }
    starts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.g - b.g));
    return [...exact, ...starts.map((s) => s.g)].slice(0, limit).map((g) => ({ joinid: g, id: this.ids[g]!, symbol: this.symbols[g]! }));
  }
}

type NumericColumn = Extract<Column, { kind: 'numeric' }>;

/** The presence table's (dataset, var_joinid) columns, or null when the version recorded none. */
function presenceColumns(reader: StoreReader, measurement: string): { table: FrameReader; datasets: NumericColumn; genes: NumericColumn } | null {
  const table = reader.presence(measurement);
  if (!table) return null;
  const datasets = table.column('dataset');
  const genes = table.column('var_joinid');
  if (!datasets || !genes || datasets.kind !== 'numeric' || genes.kind !== 'numeric') {
    throw new CellarError('bad_element', `ms/${measurement}/presence of store version ${reader.version} lacks its dataset or var_joinid column.`);
  }
  return { table, datasets, genes };
}

/**
 * Which datasets (obs `dataset` values) measured each of the given genes; null when the version
 * recorded no presence table (every dataset is then taken to have measured every gene).
 */
export function datasetsMeasuring(reader: StoreReader, measurement: string, joinids: readonly number[]): Map<number, Set<number>> | null {
  const presence = presenceColumns(reader, measurement);
  if (!presence) return null;
  const { table, datasets, genes } = presence;
  const out = new Map<number, Set<number>>(joinids.map((g) => [g, new Set<number>()]));
  for (let i = 0; i < table.nRows; i++) {
    const set = out.get(Number(genes.values[i]));
    if (set) set.add(Number(datasets.values[i]));
  }
  return out;
}

/**
 * Var filters may name genes through the pseudo-column `gene` (`gene == "TP53"`,
 * `gene in ["TP53", "ENSG00000141510"]`): each name is resolved like any gene name and the
 * condition becomes one on `var_id`. A store with a real column called `gene` keeps it.
 */
export function resolveGeneFilter(ast: FilterAst, frame: FrameReader, genes: () => GeneIndex): FilterAst {
  if (frame.columnNames.includes('gene')) return ast;
  const toIds = (values: FilterLiteral[]): FilterLiteral[] =>
    values.map((v) => {
      if (v.type !== 'string') throw new CellarError('bad_filter', `gene takes gene names in quotes (ids or symbols), not ${String(v.value)}.`);
      const index = genes();
      return { type: 'string', value: index.id(index.resolve(v.value)), position: v.position };
    });
  const rewrite = (node: FilterNode): FilterNode => {
    switch (node.type) {
      case 'compare':
        if (node.column.name !== 'gene') return node;
        if (node.op !== '==' && node.op !== '!=') throw new CellarError('bad_filter', `gene can only be compared with == or != (or in a list with in / not in), not ${node.op}.`);
        return { type: 'in', column: { name: 'var_id', position: node.column.position }, negated: node.op === '!=', values: toIds([node.value]) };
      case 'in':
        return node.column.name === 'gene' ? { ...node, column: { name: 'var_id', position: node.column.position }, values: toIds(node.values) } : node;
      case 'isna':
      case 'truthy':
        if (node.column.name === 'gene') throw new CellarError('bad_filter', 'gene names genes by id or symbol: use gene == "NAME" or gene in ["A", "B"].');
        return node;
      case 'and':
      case 'or':
        return { type: node.type, operands: node.operands.map(rewrite) };
      case 'not':
        return { type: 'not', operand: rewrite(node.operand) };
    }
  };
  return { source: ast.source, root: rewrite(ast.root) };
}

/**
 * The (dataset, gene) pairs of a selection where the dataset never measured the gene, as two
 * parallel lists (dataset key, var_id): what an export says beside X, whose sparse zeros
 * cannot tell "not measured" from 0. Null when the version recorded no presence table.
 */
export function notMeasuredPairs(reader: StoreReader, measurement: string, obsJoinids: ArrayLike<number>, varJoinids: ArrayLike<number>): { dataset: string[]; var_id: string[] } | null {
  const datasetColumn = reader.obs.column('dataset');
  const presence = datasetColumn ? presenceColumns(reader, measurement) : null;
  if (!presence || !datasetColumn) return null;
  const { table, datasets, genes } = presence;
  // The datasets of the selected cells, each given a row of a (dataset × gene) "measured" table.
  const positions = new Set<number>();
  for (let i = 0; i < obsJoinids.length; i++) positions.add(Number(stringAt(datasetColumn, obsJoinids[i]!)));
  const selected = [...positions].sort((a, b) => a - b);
  const slotOf = new Map(selected.map((p, k) => [p, k]));
  const nVars = reader.nVars(measurement);
  const measured = new Uint8Array(selected.length * nVars);
  for (let i = 0; i < table.nRows; i++) {
    const slot = slotOf.get(Number(datasets.values[i]));
    const gene = Number(genes.values[i]);
    if (slot !== undefined && gene >= 0 && gene < nVars) measured[slot * nVars + gene] = 1;
  }
  const recorded = Array.isArray(reader.manifest.meta.datasets) ? (reader.manifest.meta.datasets as { position?: number; key?: string }[]) : [];
  const keyOf = (p: number) => recorded.find((d) => d.position === p)?.key ?? `dataset ${p}`;
  const ids = reader.var(measurement).column('var_id');
  const out = { dataset: [] as string[], var_id: [] as string[] };
  selected.forEach((p, slot) => {
    for (let j = 0; j < varJoinids.length; j++) {
      const g = varJoinids[j]!;
      if (measured[slot * nVars + g]) continue;
      out.dataset.push(keyOf(p));
      out.var_id.push(ids ? (stringAt(ids, g) ?? String(g)) : String(g));
    }
  });
  return out;
}
