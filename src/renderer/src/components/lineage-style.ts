// How lineage nodes look: shape and colour per kind, run status in the run's colours,
// tombstones dashed and grey. Classes come from lineageNodeClasses().
import type { StylesheetJson } from 'cytoscape';

/** Fill and border per class; also drawn as swatches in the key under the graph. */
export const LINEAGE_COLORS = {
  h5ad: { fill: '#dbeafe', border: '#2563eb' },
  store: { fill: '#ccfbf1', border: '#0f766e' },
  collection: { fill: '#ede9fe', border: '#7c3aed' },
  completed: { fill: '#f0fdf4', border: '#15803d' },
  running: { fill: '#fffbeb', border: '#d97706' },
  failed: { fill: '#fee2e2', border: '#dc2626' },
  cancelled: { fill: '#f3f4f6', border: '#6b7280' },
  deleted: { fill: '#f5f5f5', border: '#9ca3af' },
  export: { fill: '#fef3c7', border: '#b45309' },
  embedding: { fill: '#fce7f3', border: '#be185d' },
} as const;

const colored = (selector: string, key: keyof typeof LINEAGE_COLORS) => ({
  selector,
  style: { 'background-color': LINEAGE_COLORS[key].fill, 'border-color': LINEAGE_COLORS[key].border },
});

export const LINEAGE_STYLE: StylesheetJson = [
  {
    selector: 'node',
    style: {
      label: 'data(display)',
      width: 'data(width)',
      height: 'data(height)',
      'text-wrap': 'wrap',
      'text-max-width': '400px',
      'text-valign': 'center',
      'text-halign': 'center',
      'font-family': 'system-ui, -apple-system, "Segoe UI", sans-serif',
      'font-size': 12,
      'line-height': 1.2,
      color: '#111827',
      'border-width': 1.5,
      'border-style': 'solid',
      shape: 'round-rectangle',
    },
  },
  { selector: 'node.artifact.store', style: { shape: 'barrel' } },
  { selector: 'node.collection', style: { shape: 'round-rectangle', 'border-width': 4, 'border-style': 'double' } },
  { selector: 'node.run', style: { shape: 'ellipse' } },
  { selector: 'node.export', style: { shape: 'tag' } },
  { selector: 'node.embedding', style: { shape: 'hexagon' } },
  colored('node.export', 'export'),
  colored('node.embedding', 'embedding'),
  colored('node.artifact.h5ad', 'h5ad'),
  colored('node.artifact.store', 'store'),
  colored('node.collection', 'collection'),
  colored('node.run.completed', 'completed'),
  colored('node.run.running', 'running'),
  colored('node.run.failed', 'failed'),
  colored('node.run.cancelled', 'cancelled'),
  {
    selector: 'node.run.failed',
    style: { 'border-width': 2.5 },
  },
  {
    selector: 'node.deleted',
    style: {
      'background-color': LINEAGE_COLORS.deleted.fill,
      'border-color': LINEAGE_COLORS.deleted.border,
      'border-style': 'dashed',
      'border-width': 1.5,
      color: '#6b7280',
    },
  },
  {
    selector: 'edge',
    style: {
      width: 1.5,
      'curve-style': 'bezier',
      'line-color': '#9ca3af',
      'target-arrow-color': '#6b7280',
      'target-arrow-shape': 'triangle',
      'arrow-scale': 1.1,
    },
  },
  { selector: 'edge.member', style: { 'line-style': 'dashed', 'target-arrow-shape': 'diamond', 'line-color': '#c4b5fd', 'target-arrow-color': '#7c3aed' } },
  {
    selector: 'node.highlighted, node:selected',
    style: { 'underlay-color': '#2563eb', 'underlay-padding': 5, 'underlay-opacity': 0.25, 'underlay-shape': 'round-rectangle' },
  },
];
