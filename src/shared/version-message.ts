// What a store version's operation did, in the words the Versions and Lineage screens and
// `cellar versions` show. One wording for messages recorded at commit time and for those
// derived later from a run's parameters (versions written before messages were recorded).
import { formatCount } from './format-number';

/** "a.h5ad", "a.h5ad and b.h5ad", "a.h5ad, b.h5ad and c.h5ad", "5 files". */
function fileList(names: string[]): string {
  if (names.length > 3) return `${formatCount(names.length)} files`;
  if (names.length === 1) return names[0]!;
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** "+1,500 cells", "+1 gene", "−3 cells". */
function signed(n: number, one: string, many: string): string {
  return `${n < 0 ? '−' : '+'}${formatCount(Math.abs(n))} ${Math.abs(n) === 1 ? one : many}`;
}

function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

export function concatenationMessage(nFiles: number, nCells: number, nGenes: number): string {
  return `concatenation of ${plural(nFiles, 'file', 'files')}: ${plural(nCells, 'cell', 'cells')} × ${plural(nGenes, 'gene', 'genes')}`;
}

export function appendMessage(fileNames: string[], addedCells: number, addedGenes: number): string {
  return `append${fileNames.length ? ` of ${fileList(fileNames)}` : ''}: ${signed(addedCells, 'cell', 'cells')}, ${signed(addedGenes, 'gene', 'genes')}`;
}

export function restoreMessage(version: number): string {
  return `restore of v${version}`;
}

export interface PcaSettings {
  nComponents: number;
  layer?: string;
  normalize?: boolean;
  genes?: number;
}

export function embeddingMessage(name: string, source: { pca: PcaSettings } | { fromFile: string }): string {
  if ('fromFile' in source) return `embedding from ${source.fromFile} as obsm ${name}`;
  const { pca } = source;
  const details = [`${plural(pca.nComponents, 'component', 'components')} of ${pca.layer ?? 'data'}`];
  if (pca.normalize) details.push('normalised');
  if (pca.genes) details.push(`${formatCount(pca.genes)} most variable genes`);
  return `PCA (${details.join(', ')}) as obsm ${name}`;
}

export function annotationMessage(fileName: string, nColumns: number): string {
  return `annotation from ${fileName}: ${plural(nColumns, 'column', 'columns')}`;
}

export function compactionMessage(firstVersion: number, lastVersion: number): string {
  return firstVersion === lastVersion ? `compaction of v${lastVersion}` : `compaction of v${firstVersion}–v${lastVersion}`;
}

export function selectionMessage(column: string, nGroups: number, nCells: number): string {
  return `selection saved as obs column ${column}: ${nGroups === 1 ? '1 group' : `${formatCount(nGroups)} groups`}, ${nCells === 1 ? '1 cell' : `${formatCount(nCells)} cells`}`;
}

export function qcMessage(layer: string): string {
  return `QC metrics of ${layer} as obs columns (total_counts, n_genes_by_counts, pct_counts_mt, pct_counts_ribo)`;
}

export function neighborsMessage(graph: string, k: number, embedding: string, metric: string): string {
  return `neighbour graph ${graph}: ${formatCount(k)} nearest neighbours on obsm ${embedding} (${metric})`;
}

export function umapMessage(name: string, graph: string): string {
  return `UMAP from graph ${graph} as obsm ${name}`;
}

export function clusterMessage(name: string, resolution: number, nClusters: number | null): string {
  return `Leiden clusters as obs column ${name} (resolution ${resolution}${nClusters === null ? '' : `: ${nClusters === 1 ? '1 cluster' : `${formatCount(nClusters)} clusters`}`})`;
}

export function geneNamingMessage(symbolColumn: string | null): string {
  return symbolColumn === null ? 'genes named by id only (no symbol column)' : `gene symbols from var column ${symbolColumn}`;
}

export function importMessage(fileName: string): string {
  return `import of ${fileName}`;
}

/** What a message derived after the fact can know about the version and its run. */
export interface VersionFacts {
  transform: string;
  params: Record<string, unknown>;
  nCells: number | null;
  nGenes: number | null;
  /** The version before this one in the same store (for append's counts). */
  previous: { nCells: number | null; nGenes: number | null } | null;
  /** h5ad files the run read (concatenate's members). */
  nInputFiles: number;
  /** The artifact's own key (for imports). */
  key: string;
  /** For compact: the lowest version number the compaction replaced. */
  firstVersion?: number;
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The message of a version recorded before messages were: rebuilt from its run's transform and parameters. */
export function deriveVersionMessage(facts: VersionFacts): string {
  const p = facts.params;
  switch (facts.transform) {
    case 'concatenate':
      return concatenationMessage(facts.nInputFiles, facts.nCells ?? 0, facts.nGenes ?? 0);
    case 'append': {
      const files = Array.isArray(p.files) ? p.files.filter((f): f is string => typeof f === 'string').map(baseName) : [];
      const prev = facts.previous;
      return appendMessage(files, (facts.nCells ?? 0) - (prev?.nCells ?? 0), (facts.nGenes ?? 0) - (prev?.nGenes ?? 0));
    }
    case 'restore':
      return num(p.version) !== undefined ? restoreMessage(num(p.version)!) : 'restore of an earlier version';
    case 'embed': {
      // A bare number is the component count alone.
      const pca = typeof p.pca === 'number' ? { nComponents: p.pca } : (p.pca as Record<string, unknown> | null | undefined);
      if (pca && typeof pca === 'object' && num(pca.nComponents) !== undefined) {
        return embeddingMessage(str(p.name) ?? 'pca', { pca: { nComponents: num(pca.nComponents)!, layer: str(pca.layer), normalize: pca.normalize === true, genes: num(pca.genes) } });
      }
      return embeddingMessage(str(p.name) ?? 'embedding', { fromFile: str(p.from) ? baseName(str(p.from)!) : 'a file' });
    }
    case 'annotate': {
      if ('symbolColumn' in p) return geneNamingMessage(str(p.symbolColumn) ?? null);
      const selection = p.selection as { column?: unknown; labels?: unknown; n_cells?: unknown } | undefined;
      if (selection && typeof selection === 'object') {
        const counts = Array.isArray(selection.n_cells) ? selection.n_cells.filter((n): n is number => typeof n === 'number') : [];
        return selectionMessage(str(selection.column) ?? 'selection', Array.isArray(selection.labels) ? selection.labels.length : counts.length, counts.reduce((a, b) => a + b, 0));
      }
      return annotationMessage(str(p.from) ? baseName(str(p.from)!) : 'a table', Array.isArray(p.columns) ? p.columns.length : 0);
    }
    case 'compact': {
      const last = num(p.version);
      return last !== undefined ? compactionMessage(facts.firstVersion ?? 1, last) : 'compaction';
    }
    case 'import':
      return importMessage(facts.key);
    case 'qc':
      return qcMessage(str(p.layer) ?? 'data');
    case 'neighbors':
      return neighborsMessage(str(p.name) ?? 'neighbors', num(p.k) ?? 15, str(p.embedding) ?? 'pca', str(p.metric) ?? 'euclidean');
    case 'umap':
      return umapMessage(str(p.name) ?? 'X_umap', str(p.neighbors) ?? 'neighbors');
    case 'cluster':
      return clusterMessage(str(p.name) ?? 'leiden', num(p.resolution) ?? 1, null);
    default:
      return facts.transform;
  }
}
