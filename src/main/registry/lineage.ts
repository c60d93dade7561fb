// Lineage: a read-only view over the tables. The graph of what made an item and what was
// made from it; nothing here writes.
import type { Lineage, LineageEdge, LineageNode } from '../../shared/registry-types';
import { versionMessage } from './artifacts';
import { memberRows } from './collections';
import type { ArtifactRow, CollectionRow, RegistryDb, RunRow } from './database';
import { resolveAny } from './named-items';

/**
 * The upstream walk through each run's inputs (and each collection's members), plus every
 * run downstream of the starting item and what each made, exports and embeddings included.
 * Edges go input → run → output.
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
    addRunProducts(run);
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
    nodes.set(artifact.uid, artifactNode(registry, artifact));
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

  // Downstream, to the end: every run that consumed the starting item or something made from
  // it, and what it made. A file's cells live on in each later store version built on the one
  // that took them in (append, embed, annotate, compact, restore of such a version), so the
  // walk follows the file through all of them, not only the first.
  const consumersOfArtifact = registry.db.prepare('SELECT r.* FROM run_input_artifact i JOIN run r ON r.id = i.run_id WHERE i.artifact_id = ? ORDER BY r.id');
  const consumersOfCollection = registry.db.prepare('SELECT r.* FROM run_input_collection i JOIN run r ON r.id = i.run_id WHERE i.collection_id = ? ORDER BY r.id');
  const artifactOutputs = registry.db.prepare('SELECT * FROM artifact WHERE run_id = ? ORDER BY id');
  const collectionOutputs = registry.db.prepare('SELECT * FROM collection WHERE run_id = ? ORDER BY id');
  const walkedDown = new Set<string>();
  const queue: Array<{ uid: string; consumers: RunRow[] }> = [
    { uid: startUid, consumers: (start.kind === 'artifact' ? consumersOfArtifact : consumersOfCollection).all(start.row.id) as RunRow[] },
  ];
  while (queue.length) {
    const { uid, consumers } = queue.shift()!;
    if (walkedDown.has(uid)) continue;
    walkedDown.add(uid);
    for (const run of consumers) {
      addNode(runNode(run));
      addEdge(uid, run.uid, 'input');
      // A run with two inputs on the walk (an append of a file onto a version) is walked once.
      if (walkedDown.has(run.uid)) continue;
      walkedDown.add(run.uid);
      // The run's other inputs (the file an append took in) as nodes, without their own history.
      for (const { artifact_id } of inputArtifactIds.all(run.id) as Array<{ artifact_id: number }>) {
        const input = artifactRowById.get(artifact_id) as ArtifactRow;
        addNode(artifactNode(registry, input));
        addEdge(input.uid, run.uid, 'input');
      }
      for (const { collection_id } of inputCollectionIds.all(run.id) as Array<{ collection_id: number }>) {
        const input = collectionRowById.get(collection_id) as CollectionRow;
        addNode(collectionNode(input));
        addEdge(input.uid, run.uid, 'input');
      }
      for (const output of artifactOutputs.all(run.id) as ArtifactRow[]) {
        addNode(artifactNode(registry, output));
        addEdge(run.uid, output.uid, 'output');
        queue.push({ uid: output.uid, consumers: consumersOfArtifact.all(output.id) as RunRow[] });
      }
      for (const output of collectionOutputs.all(run.id) as CollectionRow[]) {
        addNode(collectionNode(output));
        addEdge(run.uid, output.uid, 'output');
      }
      addRunProducts(run);
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

  /** What a run wrote that the registry keeps no artifact for: an export's file, an embed's obsm matrix. */
  function addRunProducts(run: RunRow): void {
    const name = (transformName.get(run.transform_id) as { name: string }).name;
    if (run.status !== 'completed' || (name !== 'export' && name !== 'embed')) return;
    let params: Record<string, unknown> = {};
    try {
      params = JSON.parse(run.params) as Record<string, unknown>;
    } catch {
      return;
    }
    if (name === 'export' && typeof params.out === 'string') {
      const id = `${run.uid}:export`;
      const format = typeof params.format === 'string' ? params.format : 'h5ad';
      addNode({ id, kind: 'export', label: `${baseName(params.out)} (${format})`, deleted: false, path: params.out });
      addEdge(run.uid, id, 'output');
    }
    if (name === 'embed' && typeof params.name === 'string') {
      const id = `${run.uid}:embedding`;
      addNode({ id, kind: 'embedding', label: `obsm ${params.name}`, deleted: false });
      addEdge(run.uid, id, 'output');
    }
  }
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

function artifactNode(registry: RegistryDb, artifact: ArtifactRow): LineageNode {
  const message = versionMessage(registry, artifact);
  return {
    id: artifact.uid,
    kind: 'artifact',
    label: withTombstone(artifact.kind === 'store' ? `${artifact.key} v${artifact.version}` : artifact.key, artifact.deleted_at),
    deleted: artifact.deleted_at !== null,
    artifactKind: artifact.kind,
    ...(message ? { message } : {}),
    ...(artifact.kind === 'store' ? { storeKey: artifact.key, version: artifact.version } : {}),
  };
}

function collectionNode(collection: CollectionRow): LineageNode {
  return { id: collection.uid, kind: 'collection', label: withTombstone(collection.key, collection.deleted_at), deleted: collection.deleted_at !== null };
}

function withTombstone(label: string, deletedAt: string | null): string {
  return deletedAt ? `${label} (deleted)` : label;
}
