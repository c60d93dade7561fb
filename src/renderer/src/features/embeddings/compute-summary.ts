// What a finished compute job made, in one sentence each: the name it was saved under and
// the version it is in, so the user knows where to find it in the pickers below.
import type { ClusterJobResult, NeighborsJobResult, QcJobResult, UmapJobResult } from '../../../../shared/result-types';
import { formatDecimal } from '../../../../shared/format-number';
import { formatCount, plural } from '../../format';

export function describeQc(r: QcJobResult): string {
  const median = r.qc.median;
  const genes = `${plural(r.qc.genes.mt, 'mitochondrial gene')} and ${plural(r.qc.genes.ribo, 'ribosomal gene')} by ${r.qc.symbols}`;
  return `Saved obs columns ${r.qc.columns.join(', ')} from layer ${r.qc.layer} as version ${r.store.version} (${genes}; median total_counts ${formatDecimal(median.total_counts)}, n_genes_by_counts ${formatDecimal(median.n_genes_by_counts)}).`;
}

export function describeNeighbors(r: NeighborsJobResult): string {
  const g = r.graph;
  return `Saved obsp ${g.name} (${g.k} ${g.metric} neighbours of ${formatCount(g.n_obs)} cells on ${g.embedding}) as version ${r.store.version}.`;
}

export function describeUmap(r: UmapJobResult): string {
  const u = r.umap;
  const graph = u.graph_computed ? `, with the neighbour graph ${u.graph} made first` : ` from the neighbour graph ${u.graph}`;
  return `Saved obsm ${u.name} (${formatCount(u.shape[0])} cells, min dist ${formatDecimal(u.min_dist)}${graph}) as version ${r.store.version}.`;
}

export function describeCluster(r: ClusterJobResult): string {
  const c = r.clusters;
  const graph = c.graph_computed ? `; the neighbour graph ${c.graph} was made first` : '';
  return `${plural(c.n_clusters, 'Leiden cluster')} in obs column ${c.name} (resolution ${formatDecimal(c.resolution)}, modularity ${c.modularity.toFixed(3)}${graph}), saved as version ${r.store.version}.`;
}
