// Turns a Lineage (registry records) into cytoscape elements and into the flow order the
// accessible node list uses. Pure functions; no DOM.
import type { ElementDefinition } from 'cytoscape';
import type { Lineage, LineageNode } from '../../../shared/registry-types';

/** Rough width of one character of the 12 px label font, for sizing nodes before drawing. */
const CHAR_WIDTH = 7;
const LINE_HEIGHT = 15;
const MIN_WIDTH = 72;
const MAX_WIDTH = 200;
const PADDING_X = 20;
const PADDING_Y = 14;
const MAX_LINES = 3;

export interface NodeBox {
  /** The label as drawn: broken into lines, shortened with … past three lines. */
  display: string;
  width: number;
  height: number;
}

/** Size and wrapped text of a node's label; runs are ellipses, so they get extra width. */
export function lineageNodeBox(label: string, kind: LineageNode['kind']): NodeBox {
  const charsPerLine = Math.floor((MAX_WIDTH - PADDING_X) / CHAR_WIDTH);
  const lines = wrapLabel(label, charsPerLine);
  const longest = Math.max(...lines.map((line) => line.length));
  const width = Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, longest * CHAR_WIDTH + PADDING_X));
  return {
    display: lines.join('\n'),
    width: kind === 'run' ? Math.round(width * 1.2) : width,
    height: lines.length * LINE_HEIGHT + PADDING_Y * 2,
  };
}

/** Breaks at spaces, dashes, underscores, dots and slashes when it can, mid-word when it must. */
export function wrapLabel(label: string, charsPerLine: number): string[] {
  const lines: string[] = [];
  let rest = label.trim();
  while (rest.length > charsPerLine) {
    if (lines.length === MAX_LINES - 1) {
      lines.push(`${rest.slice(0, charsPerLine - 1)}…`);
      return lines;
    }
    const candidate = rest.slice(0, charsPerLine + 1);
    const breakAt = Math.min(charsPerLine, Math.max(candidate.lastIndexOf(' '), candidate.lastIndexOf('-') + 1, candidate.lastIndexOf('_') + 1, candidate.lastIndexOf('.') + 1, candidate.lastIndexOf('/') + 1));
    const cut = breakAt > charsPerLine / 3 ? breakAt : charsPerLine;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0 || lines.length === 0) lines.push(rest);
  return lines;
}

/** Style classes: kind, artifact kind or run status, and `deleted` for tombstones. */
export function lineageNodeClasses(node: LineageNode): string[] {
  const classes: string[] = [node.kind];
  if (node.kind === 'artifact') classes.push(node.artifactKind ?? 'h5ad');
  if (node.kind === 'run') classes.push(node.status ?? 'completed');
  if (node.deleted) classes.push('deleted');
  return classes;
}

/** Words for a node's kind, for the accessible list and tooltips. */
export function describeLineageNode(node: LineageNode): string {
  let kind: string;
  if (node.kind === 'artifact') kind = node.artifactKind === 'store' ? 'array store' : 'h5ad file';
  else if (node.kind === 'collection') kind = 'collection';
  else if (node.kind === 'export') kind = 'export';
  else if (node.kind === 'embedding') kind = 'embedding';
  else kind = node.status && node.status !== 'completed' ? `run, ${node.status}` : 'run';
  return node.deleted ? `${kind}, deleted` : kind;
}

/** Nodes and edges for cytoscape; edges naming a node that is not in the lineage are dropped. */
export function lineageElements(lineage: Lineage): ElementDefinition[] {
  const ids = new Set(lineage.nodes.map((node) => node.id));
  const elements: ElementDefinition[] = lineage.nodes.map((node) => {
    const box = lineageNodeBox(node.label, node.kind);
    return {
      group: 'nodes',
      data: { id: node.id, label: node.label, display: box.display, width: box.width, height: box.height },
      classes: lineageNodeClasses(node),
    };
  });
  for (const edge of lineage.edges) {
    if (!ids.has(edge.from) || !ids.has(edge.to) || edge.from === edge.to) continue;
    elements.push({
      group: 'edges',
      data: { id: `${edge.from}->${edge.to}`, source: edge.from, target: edge.to, relation: edge.relation },
      classes: [edge.relation],
    });
  }
  return elements;
}

/**
 * Longest-path layer of every node: sources are 0, every other node sits one past its
 * deepest predecessor. Nodes caught in a cycle (which a lineage never has) stay at the
 * layer their other predecessors give them.
 */
export function lineageLayers(lineage: Lineage): Map<string, number> {
  const layers = new Map<string, number>();
  const indegree = new Map<string, number>();
  const successors = new Map<string, string[]>();
  for (const node of lineage.nodes) {
    layers.set(node.id, 0);
    indegree.set(node.id, 0);
    successors.set(node.id, []);
  }
  for (const edge of lineage.edges) {
    if (!layers.has(edge.from) || !layers.has(edge.to) || edge.from === edge.to) continue;
    successors.get(edge.from)!.push(edge.to);
    indegree.set(edge.to, indegree.get(edge.to)! + 1);
  }
  const queue = lineage.nodes.filter((node) => indegree.get(node.id) === 0).map((node) => node.id);
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head]!;
    const next = layers.get(id)! + 1;
    for (const successor of successors.get(id)!) {
      if (layers.get(successor)! < next) layers.set(successor, next);
      const remaining = indegree.get(successor)! - 1;
      indegree.set(successor, remaining);
      if (remaining === 0) queue.push(successor);
    }
  }
  return layers;
}

/** The nodes in flow order (upstream first), then by label, for reading without the graph. */
export function lineageListOrder(lineage: Lineage): LineageNode[] {
  const layers = lineageLayers(lineage);
  return [...lineage.nodes].sort((a, b) => layers.get(a.id)! - layers.get(b.id)! || a.label.localeCompare(b.label) || a.id.localeCompare(b.id));
}
