// Lineage: a read-only view over the tables. The graph of what made an item and what was
// made from it; nothing here writes.
import type { Lineage, LineageEdge, LineageNode } from '../../shared/registry-types';
import { memberRows } from './collections';
import type { ArtifactRow, CollectionRow, RegistryDb, RunRow } from './database';
import { resolveAny } from './named-items';

/**
 * The upstream walk through each run's inputs (and each collection's members), plus the
 * runs that consumed the starting item and what they made. Edges go input → run → output.
 */
export function buildLineage(registry: RegistryDb, ref: string): Lineage {
  const start = resolveAny(registry, ref);
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  // Outputs and containing collections may already be on the graph from the upstream walk.
  const addNode = (node: LineageNode) => {
    if (!nodes.has(node.id)) nodes.set(node.id, node);
  };
  const addEdge = (from: string, to: string, relation: LineageEdge['relation']) => {
    edges.set(`${from}\u0000${to}`, { from, to, relation });
  };
  const runRowById = registry.db.prepare('SELECT * FROM run WHERE id = ?');
  const inputArtifactIds = registry.db.prepare('SELECT artifact_id FROM run_input_artifact WHERE run_id = ? ORDER BY artifact_id');
  const inputCollectionIds = registry.db.prepare('SELECT collection_id FROM run_input_collection WHERE run_id = ? ORDER BY collection_id');
  const artifactRowById = registry.db.prepare('SELECT * FROM artifact WHERE id = ?');
  const collectionRowById = registry.db.prepare('SELECT * FROM collection WHERE id = ?');
  const transformName = registry.db.prepare('SELECT name FROM transform WHERE id = ?');
  const runNode = (run: RunRow): LineageNode => {
    const name = (transformName.get(run.transform_id) as { name: string }).name;
    return { id: run.uid, kind: 'run', label: run.status === 'completed' ? name : `${name} (${run.status})`, deleted: false, status: run.status };
  };

  const visitRun = (run: RunRow): void => {
    if (nodes.has(run.uid)) return;
    nodes.set(run.uid, runNode(run));
    for (const { artifact_id } of inputArtifactIds.all(run.id) as Array<{ artifact_id: number }>) {
      const input = artifactRowById.get(artifact_id) as ArtifactRow;
      visitArtifact(input);
      addEdge(input.uid, run.uid, 'input');
    }
    for (const { collection_id } of inputCollectionIds.all(run.id) as Array<{ collection_id: number }>) {
      const input = collectionRowById.get(collection_id) as CollectionRow;
      visitCollection(input);
      addEdge(input.uid, run.uid, 'input');
    }
  };
  const visitArtifact = (artifact: ArtifactRow): void => {
    if (nodes.has(artifact.uid)) return;
    nodes.set(artifact.uid, artifactNode(artifact));
    if (artifact.run_id !== null) {
      const run = runRowById.get(artifact.run_id) as RunRow;
      visitRun(run);
      addEdge(run.uid, artifact.uid, 'output');
    }
  };
  const visitCollection = (collection: CollectionRow): void => {
    if (nodes.has(collection.uid)) return;
    nodes.set(collection.uid, collectionNode(collection));
    if (collection.run_id !== null) {
      const run = runRowById.get(collection.run_id) as RunRow;
      visitRun(run);
      addEdge(run.uid, collection.uid, 'output');
    }
    for (const member of memberRows(registry, collection.id)) {
      visitArtifact(member);
      addEdge(member.uid, collection.uid, 'member');
    }
  };

  const startUid = start.row.uid;
  if (start.kind === 'artifact') visitArtifact(start.row);
  else visitCollection(start.row);

  // Downstream, one step: who consumed the starting item and what they made.
  const consumerRuns = (
    start.kind === 'artifact'
      ? registry.db.prepare('SELECT r.* FROM run_input_artifact i JOIN run r ON r.id = i.run_id WHERE i.artifact_id = ? ORDER BY r.id')
      : registry.db.prepare('SELECT r.* FROM run_input_collection i JOIN run r ON r.id = i.run_id WHERE i.collection_id = ? ORDER BY r.id')
  ).all(start.row.id) as RunRow[];
  for (const run of consumerRuns) {
    if (!nodes.has(run.uid)) nodes.set(run.uid, runNode(run));
    addEdge(startUid, run.uid, 'input');
    for (const output of registry.db.prepare('SELECT * FROM artifact WHERE run_id = ? ORDER BY id').all(run.id) as ArtifactRow[]) {
      addNode(artifactNode(output));
      addEdge(run.uid, output.uid, 'output');
    }
    for (const output of registry.db.prepare('SELECT * FROM collection WHERE run_id = ? ORDER BY id').all(run.id) as CollectionRow[]) {
      addNode(collectionNode(output));
      addEdge(run.uid, output.uid, 'output');
    }
  }
  if (start.kind === 'artifact') {
    const containing = registry.db
      .prepare('SELECT c.* FROM collection_artifact ca JOIN collection c ON c.id = ca.collection_id WHERE ca.artifact_id = ? ORDER BY c.id')
      .all(start.row.id) as CollectionRow[];
    for (const collection of containing) {
      addNode(collectionNode(collection));
      addEdge(startUid, collection.uid, 'member');
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

function artifactNode(artifact: ArtifactRow): LineageNode {
  return {
    id: artifact.uid,
    kind: 'artifact',
    label: withTombstone(artifact.kind === 'store' ? `${artifact.key} v${artifact.version}` : artifact.key, artifact.deleted_at),
    deleted: artifact.deleted_at !== null,
    artifactKind: artifact.kind,
  };
}

function collectionNode(collection: CollectionRow): LineageNode {
  return { id: collection.uid, kind: 'collection', label: withTombstone(collection.key, collection.deleted_at), deleted: collection.deleted_at !== null };
}

function withTombstone(label: string, deletedAt: string | null): string {
  return deletedAt ? `${label} (deleted)` : label;
}
