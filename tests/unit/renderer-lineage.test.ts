import { describe, expect, it } from 'vitest';
import type { Lineage } from '../../src/shared/registry-types';
import {
  describeLineageNode,
  lineageElements,
  lineageLayers,
  lineageListOrder,
  lineageNodeBox,
  lineageNodeClasses,
  wrapLabel,
} from '../../src/renderer/src/components/lineage-elements';

// Two imports, a collection, a concatenation into a store, an append and a failed embed.
const lineage: Lineage = {
  nodes: [
    { id: 'store2', kind: 'artifact', label: 'pbmc v2', deleted: false, artifactKind: 'store' },
    { id: 'append', kind: 'run', label: 'append', deleted: false, status: 'completed' },
    { id: 'store1', kind: 'artifact', label: 'pbmc v1 (deleted)', deleted: true, artifactKind: 'store' },
    { id: 'concat', kind: 'run', label: 'concatenate', deleted: false, status: 'completed' },
    { id: 'coll', kind: 'collection', label: 'pbmc-collection', deleted: false },
    { id: 'a', kind: 'artifact', label: 'donor-a.h5ad', deleted: false, artifactKind: 'h5ad' },
    { id: 'b', kind: 'artifact', label: 'donor-b.h5ad', deleted: false, artifactKind: 'h5ad' },
    { id: 'c', kind: 'artifact', label: 'donor-c.h5ad', deleted: false, artifactKind: 'h5ad' },
    { id: 'embed', kind: 'run', label: 'embed (failed)', deleted: false, status: 'failed' },
  ],
  edges: [
    { from: 'a', to: 'coll', relation: 'member' },
    { from: 'b', to: 'coll', relation: 'member' },
    { from: 'coll', to: 'concat', relation: 'input' },
    { from: 'concat', to: 'store1', relation: 'output' },
    { from: 'store1', to: 'append', relation: 'input' },
    { from: 'c', to: 'append', relation: 'input' },
    { from: 'append', to: 'store2', relation: 'output' },
    { from: 'store2', to: 'embed', relation: 'input' },
    { from: 'store2', to: 'ghost', relation: 'output' },
  ],
};

describe('lineage layering', () => {
  it('puts each node one layer past its deepest predecessor', () => {
    const layers = lineageLayers(lineage);
    expect(Object.fromEntries(layers)).toEqual({ a: 0, b: 0, c: 0, coll: 1, concat: 2, store1: 3, append: 4, store2: 5, embed: 6 });
  });

  it('lists nodes upstream first, then by label', () => {
    expect(lineageListOrder(lineage).map((node) => node.id)).toEqual(['a', 'b', 'c', 'coll', 'concat', 'store1', 'append', 'store2', 'embed']);
  });

  it('survives a cycle without looping', () => {
    const cyclic: Lineage = {
      nodes: [
        { id: 'x', kind: 'run', label: 'x', deleted: false },
        { id: 'y', kind: 'run', label: 'y', deleted: false },
        { id: 'z', kind: 'run', label: 'z', deleted: false },
      ],
      edges: [
        { from: 'x', to: 'y', relation: 'output' },
        { from: 'y', to: 'z', relation: 'input' },
        { from: 'z', to: 'y', relation: 'output' },
      ],
    };
    expect(Object.fromEntries(lineageLayers(cyclic))).toEqual({ x: 0, y: 1, z: 0 });
    expect(lineageListOrder(cyclic).map((node) => node.id)).toEqual(['x', 'z', 'y']);
  });
});

describe('lineage elements', () => {
  it('makes one cytoscape node per lineage node with its style classes and box', () => {
    const elements = lineageElements(lineage);
    const nodes = elements.filter((element) => element.group === 'nodes');
    expect(nodes.map((node) => node.data.id)).toEqual(lineage.nodes.map((node) => node.id));
    const store1 = nodes.find((node) => node.data.id === 'store1')!;
    expect(store1.classes).toEqual(['artifact', 'store', 'deleted']);
    expect(store1.data).toMatchObject({ label: 'pbmc v1 (deleted)', display: 'pbmc v1 (deleted)', width: 17 * 7 + 20, height: 15 + 28 });
    expect(nodes.find((node) => node.data.id === 'embed')!.classes).toEqual(['run', 'failed']);
    expect(nodes.find((node) => node.data.id === 'coll')!.classes).toEqual(['collection']);
    expect(nodes.find((node) => node.data.id === 'a')!.classes).toEqual(['artifact', 'h5ad']);
  });

  it('keeps edge direction and relation, and drops edges to unknown nodes', () => {
    const edges = lineageElements(lineage).filter((element) => element.group === 'edges');
    expect(edges).toHaveLength(8);
    expect(edges[0]).toEqual({ group: 'edges', data: { id: 'a->coll', source: 'a', target: 'coll', relation: 'member' }, classes: ['member'] });
    expect(edges.find((edge) => edge.data.id === 'concat->store1')!.classes).toEqual(['output']);
    expect(edges.some((edge) => edge.data.target === 'ghost')).toBe(false);
  });

  it('names classes for every kind and status, defaulting missing details', () => {
    expect(lineageNodeClasses({ id: 'r', kind: 'run', label: 'import', deleted: false, status: 'running' })).toEqual(['run', 'running']);
    expect(lineageNodeClasses({ id: 'r', kind: 'run', label: 'import', deleted: false })).toEqual(['run', 'completed']);
    expect(lineageNodeClasses({ id: 'f', kind: 'artifact', label: 'f', deleted: true })).toEqual(['artifact', 'h5ad', 'deleted']);
  });

  it('describes nodes in words for the list', () => {
    expect(describeLineageNode(lineage.nodes[0]!)).toBe('array store');
    expect(describeLineageNode(lineage.nodes[2]!)).toBe('array store, deleted');
    expect(describeLineageNode(lineage.nodes[4]!)).toBe('collection');
    expect(describeLineageNode(lineage.nodes[5]!)).toBe('h5ad file');
    expect(describeLineageNode(lineage.nodes[1]!)).toBe('run');
    expect(describeLineageNode(lineage.nodes[8]!)).toBe('run, failed');
  });
});

describe('lineage labels', () => {
  it('keeps short labels on one line with a minimum width', () => {
    expect(lineageNodeBox('x', 'artifact')).toEqual({ display: 'x', width: 72, height: 43 });
    expect(lineageNodeBox('concatenate', 'run')).toEqual({ display: 'concatenate', width: Math.round((11 * 7 + 20) * 1.2), height: 43 });
  });

  it('wraps long labels at separators, at most three lines, ending in …', () => {
    expect(wrapLabel('pbmc_10k_v3_filtered_feature_bc_matrix.h5ad', 25)).toEqual(['pbmc_10k_v3_filtered_', 'feature_bc_matrix.h5ad']);
    expect(wrapLabel('abcdefghijklmnopqrstuvwxyz', 10)).toEqual(['abcdefghij', 'klmnopqrst', 'uvwxyz']);
    expect(wrapLabel('a'.repeat(40), 10)).toEqual(['a'.repeat(10), 'a'.repeat(10), `${'a'.repeat(9)}…`]);
    expect(wrapLabel('two words', 4)).toEqual(['two', 'word', 's']);
    expect(wrapLabel('', 10)).toEqual(['']);
    const box = lineageNodeBox('pbmc_10k_v3_filtered_feature_bc_matrix.h5ad', 'artifact');
    expect(box.display.split('\n').every((line) => line.length <= 25)).toBe(true);
    expect(box.width).toBeLessThanOrEqual(200);
    expect(box.height).toBe(2 * 15 + 28);
  });
});
