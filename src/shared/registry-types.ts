// Plain records the registry hands out. No Node imports, so the IPC contract may reuse them.

export type ArtifactKind = 'h5ad' | 'store';
export type HashType = 'md5' | 'sha1-fl' | 'md5-d';
export type TransformName = 'import' | 'concatenate' | 'append' | 'embed' | 'export' | 'annotate' | 'restore' | 'compact' | 'neighbors' | 'umap' | 'cluster' | 'qc';
export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export interface RunRef {
  uid: string;
  transform: string;
}

export interface ArtifactRecord {
  uid: string;
  stem: string;
  versionSuffix: string;
  /** 1, 2, 3… within the stem's family. */
  version: number;
  tag: string | null;
  key: string;
  description: string | null;
  suffix: string;
  kind: ArtifactKind;
  size: number;
  hash: string;
  hashType: HashType;
  nFiles: number;
  nObservations: number | null;
  nVars: number | null;
  isLatest: boolean;
  /** Absolute path; kept relative to the home in the database when it lies inside it. */
  storagePath: string;
  isLink: boolean;
  /** ISO-8601 UTC. */
  createdAt: string;
  deletedAt: string | null;
  run: RunRef | null;
  /** What the operation that made it did ("append of b.h5ad: +1,500 cells, +50 genes"); null without a run. */
  message: string | null;
}

export interface CollectionRecord {
  uid: string;
  key: string;
  description: string | null;
  hash: string;
  createdAt: string;
  deletedAt: string | null;
  run: RunRef | null;
  /** Members in their recorded order. */
  members: ArtifactRecord[];
}

export interface TransformRecord {
  uid: string;
  name: string;
  version: string;
  createdAt: string;
}

export interface RunRecord {
  uid: string;
  transform: TransformRecord;
  startedAt: string;
  finishedAt: string | null;
  status: RunStatus;
  params: Record<string, unknown>;
  error: string | null;
  inputs: { artifacts: string[]; collections: string[] };
  outputs: { artifacts: string[]; collections: string[] };
}

/** `cellar versions --json` entry (SPEC §5). */
export interface VersionJson {
  uid: string;
  version: number;
  is_latest: boolean;
  created_at: string;
  n_files: number;
  size: number;
  hash: string;
  n_observations: number | null;
  run: RunRef | null;
  message: string | null;
}

/** export: a file or folder a run wrote out of a store; embedding: an obsm matrix an embed run added. */
export type LineageNodeKind = 'artifact' | 'collection' | 'run' | 'export' | 'embedding';

export interface LineageNode {
  /** The uid of the artifact, collection or run. */
  id: string;
  kind: LineageNodeKind;
  label: string;
  deleted: boolean;
  /** Artifacts: h5ad or store. */
  artifactKind?: ArtifactKind;
  /** Runs: their status. */
  status?: RunStatus;
  /** Artifacts made by a run: what that run did, in words. */
  message?: string;
  /** Store versions: the store's key and the version's number, so a client can open it. */
  storeKey?: string;
  version?: number;
  /** Exports: the file or folder written. */
  path?: string;
}

export interface LineageEdge {
  from: string;
  to: string;
  /** input: consumed by a run; output: made by a run; member: belongs to a collection. */
  relation: 'input' | 'output' | 'member';
}

export interface Lineage {
  nodes: LineageNode[];
  edges: LineageEdge[];
}

export interface CollectionSummary {
  uid: string;
  key: string;
  description: string | null;
  hash: string;
  createdAt: string;
  nArtifacts: number;
  size: number;
}

export interface RegistryListing {
  collections: CollectionSummary[];
  /** Latest live version of every h5ad artifact. */
  artifacts: ArtifactRecord[];
  /** Latest live version of every store, with how many live versions it has. */
  stores: Array<ArtifactRecord & { nVersions: number }>;
}

export interface DiskUsageEntry {
  uid: string;
  key: string;
  kind: ArtifactKind;
  version: number;
  size: number;
  isLink: boolean;
  storagePath: string;
}

export interface DiskUsage {
  /** Every live artifact version. Store versions share files, so their sizes overlap. */
  entries: DiskUsageEntry[];
  /** h5ad copies kept in the home. */
  managedH5adBytes: number;
  /** h5ad files registered in place with --link. */
  linkedH5adBytes: number;
}

export type DeletedItem = { kind: 'artifact'; uid: string; key: string; version: number; storagePath: string; isLink: boolean } | { kind: 'collection'; uid: string; key: string };

export interface DeleteResult {
  deleted: DeletedItem[];
  /** Consumers that were overridden with force. */
  overridden: string[];
}
