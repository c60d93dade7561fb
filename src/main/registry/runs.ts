// Transforms and runs: which operation made an artifact or collection, with what params,
// from which inputs, in which process, and how it ended.
import { hostname } from 'node:os';
import { CellarError } from '../../shared/errors';
import type { RunRecord, RunRef, RunStatus, TransformName, TransformRecord } from '../../shared/registry-types';
import { nowIso, type RegistryDb, type RunRow, type TransformRow } from './database';
import { newRunUid, newTransformUid } from './uid';

export interface StartRunInput {
  transform: TransformName | string;
  transformVersion?: string;
  params?: Record<string, unknown>;
  /** Artifacts read by the run, by uid (a specific version), stem or key (the latest version). */
  inputArtifacts?: string[];
  inputCollections?: string[];
}

/** A run still marked running and the process that started it (null: recorded before that was kept). */
export interface RunningRun {
  uid: string;
  transform: string;
  startedAt: string;
  params: Record<string, unknown>;
  pid: number | null;
  host: string | null;
}

export function getOrCreateTransform(registry: RegistryDb, name: TransformName | string, version = '1'): TransformRecord {
  return registry.write(() => toTransform(transformRow(registry, name, version)));
}

/** Records the start of a run in this process; its inputs are added by the caller, which resolves their refs. */
export function insertRun(registry: RegistryDb, input: Pick<StartRunInput, 'transform' | 'transformVersion' | 'params'>): string {
  const transform = transformRow(registry, input.transform, input.transformVersion ?? '1');
  const uid = newRunUid();
  registry.db
    .prepare("INSERT INTO run (uid, transform_id, started_at, status, params, pid, host) VALUES (?, ?, ?, 'running', ?, ?, ?)")
    .run(uid, transform.id, nowIso(), JSON.stringify(input.params ?? {}), process.pid, hostname());
  return uid;
}

export function addRunInputIds(registry: RegistryDb, runId: number, inputs: { artifactIds?: number[]; collectionIds?: number[] }): void {
  const addArtifact = registry.db.prepare('INSERT OR IGNORE INTO run_input_artifact (run_id, artifact_id) VALUES (?, ?)');
  for (const id of inputs.artifactIds ?? []) addArtifact.run(runId, id);
  const addCollection = registry.db.prepare('INSERT OR IGNORE INTO run_input_collection (run_id, collection_id) VALUES (?, ?)');
  for (const id of inputs.collectionIds ?? []) addCollection.run(runId, id);
}

export function finishRun(registry: RegistryDb, runUid: string): RunRecord {
  return endRun(registry, runUid, 'completed', null);
}

export function failRun(registry: RegistryDb, runUid: string, error: string, status: 'failed' | 'cancelled' = 'failed'): RunRecord {
  return endRun(registry, runUid, status, error);
}

export function getRun(registry: RegistryDb, uid: string): RunRecord {
  const row = getRunRow(registry, uid);
  const transform = registry.db.prepare('SELECT * FROM transform WHERE id = ?').get(row.transform_id) as TransformRow;
  const uidsOf = (sql: string) => (registry.db.prepare(sql).all(row.id) as Array<{ uid: string }>).map((x) => x.uid);
  return {
    uid: row.uid,
    transform: toTransform(transform),
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    status: row.status,
    params: JSON.parse(row.params) as Record<string, unknown>,
    error: row.error,
    inputs: {
      artifacts: uidsOf('SELECT a.uid FROM run_input_artifact i JOIN artifact a ON a.id = i.artifact_id WHERE i.run_id = ? ORDER BY a.id'),
      collections: uidsOf('SELECT c.uid FROM run_input_collection i JOIN collection c ON c.id = i.collection_id WHERE i.run_id = ? ORDER BY c.id'),
    },
    outputs: {
      artifacts: uidsOf('SELECT uid FROM artifact WHERE run_id = ? ORDER BY id'),
      collections: uidsOf('SELECT uid FROM collection WHERE run_id = ? ORDER BY id'),
    },
  };
}

/** Every run still marked running, oldest first, with the process that started it. */
export function runningRuns(registry: RegistryDb): RunningRun[] {
  const rows = registry.db
    .prepare("SELECT r.*, t.name AS transform_name FROM run r JOIN transform t ON t.id = r.transform_id WHERE r.status = 'running' ORDER BY r.id")
    .all() as Array<RunRow & { transform_name: string }>;
  return rows.map((row) => ({
    uid: row.uid,
    transform: row.transform_name,
    startedAt: row.started_at,
    params: JSON.parse(row.params) as Record<string, unknown>,
    pid: row.pid,
    host: row.host,
  }));
}

/**
 * Ends a run whose process died without ending it: completed when it registered an
 * output before dying, else failed with `reason`. A run that already ended is left as
 * it is (another process settled it first). Returns the run's status afterwards.
 */
export function closeInterruptedRun(registry: RegistryDb, runUid: string, reason: string): RunStatus {
  return registry.write(() => {
    const run = getRunRow(registry, runUid);
    if (run.status !== 'running') return run.status;
    const made =
      registry.db.prepare('SELECT 1 FROM artifact WHERE run_id = ? LIMIT 1').get(run.id) !== undefined ||
      registry.db.prepare('SELECT 1 FROM collection WHERE run_id = ? LIMIT 1').get(run.id) !== undefined;
    const status: RunStatus = made ? 'completed' : 'failed';
    registry.db.prepare('UPDATE run SET status = ?, finished_at = ?, error = ? WHERE id = ?').run(status, nowIso(), made ? null : reason, run.id);
    return status;
  });
}

/** Newest first. */
export function listRuns(registry: RegistryDb, limit = 100): RunRecord[] {
  const rows = registry.db.prepare('SELECT uid FROM run ORDER BY id DESC LIMIT ?').all(limit) as Array<{ uid: string }>;
  return rows.map(({ uid }) => getRun(registry, uid));
}

export function getRunRow(registry: RegistryDb, uid: string): RunRow {
  const row = registry.db.prepare('SELECT * FROM run WHERE uid = ?').get(uid) as RunRow | undefined;
  if (!row) throw new CellarError('not_found', `No run "${uid}" in the registry at ${registry.dbPath}.`);
  return row;
}

export function runIdOrNull(registry: RegistryDb, runUid: string | null | undefined): number | null {
  return runUid ? getRunRow(registry, runUid).id : null;
}

/** The run that made a row, from the row's joined run columns when the query selected them. */
export function madeBy(registry: RegistryDb, row: { run_id: number | null; run_uid?: string | null; transform_name?: string | null }): RunRef | null {
  if (row.run_id === null) return null;
  if (row.run_uid && row.transform_name) return { uid: row.run_uid, transform: row.transform_name };
  const run = registry.db
    .prepare('SELECT r.uid, t.name FROM run r JOIN transform t ON t.id = r.transform_id WHERE r.id = ?')
    .get(row.run_id) as { uid: string; name: string };
  return { uid: run.uid, transform: run.name };
}

function transformRow(registry: RegistryDb, name: string, version: string): TransformRow {
  const existing = registry.db.prepare('SELECT * FROM transform WHERE name = ? AND version = ?').get(name, version) as TransformRow | undefined;
  if (existing) return existing;
  registry.db.prepare('INSERT INTO transform (uid, name, version, created_at) VALUES (?, ?, ?, ?)').run(newTransformUid(), name, version, nowIso());
  return registry.db.prepare('SELECT * FROM transform WHERE name = ? AND version = ?').get(name, version) as TransformRow;
}

function endRun(registry: RegistryDb, runUid: string, status: RunStatus, error: string | null): RunRecord {
  return registry.write(() => {
    const run = getRunRow(registry, runUid);
    if (run.status !== 'running') {
      throw new CellarError('internal', `Run ${runUid} already ended as ${run.status}.`);
    }
    registry.db.prepare('UPDATE run SET status = ?, finished_at = ?, error = ? WHERE id = ?').run(status, nowIso(), error, run.id);
    return getRun(registry, runUid);
  });
}

function toTransform(row: TransformRow): TransformRecord {
  return { uid: row.uid, name: row.name, version: row.version, createdAt: row.created_at };
}
