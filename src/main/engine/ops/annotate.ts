// Annotate: add or replace obs columns from a CSV/TSV keyed by obs_id, as a new
// version (only the new columns are written). Cells missing from the table get NA;
// ids the store does not know are refused with the list.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CellarError } from '../../../shared/errors';
import type { Registry } from '../../registry/registry';
import { openStore } from '../store/store-reader';
import { readManifest } from '../store/format/manifest';
import { createStoreWriter } from '../store/store-writer';
import type { StoreFs } from '../store/io/store-fs';
import type { StoreResultJson } from './concatenate';
import type { AnnotationPreview } from '../../../shared/result-types';
import { stringAt } from '../columns/conversions';
import type { Column } from '../columns/column-model';
import { RESERVED_OBS } from './plan';
import { inferColumn, parseDelimited } from '../formats/tables/table-file';
import { commitStoreVersion } from './commit-version';
import { resolveStore } from './reconcile';
import { annotationMessage, selectionMessage } from '../../../shared/version-message';
import { refuseStaleBase } from './versioning';

export interface AnnotateParams {
  registry: Registry;
  storeKey: string;
  from: string;
  fs?: StoreFs;
  /** Called at named points of the write ('before-commit', 'after-commit'): crash tests stop there. */
  checkpoint?: (name: string) => void | Promise<void>;
  /** Cancels the write up to the moment the version is registered (then it is withdrawn). */
  signal?: AbortSignal;
}

export type AnnotateResult = StoreResultJson & { columns: { name: string; dtype: string; replaced: boolean }[]; n_matched: number; n_missing: number };

interface MatchedAnnotation {
  preview: AnnotationPreview;
  store: Awaited<ReturnType<typeof resolveStore>>['store'];
  dir: string;
  columns: { name: string; column: ReturnType<typeof inferColumn> }[];
}

/**
 * Reads the table and matches its obs_id column to the store's cells. Problems a user can
 * fix in the file (unknown or repeated ids, reserved columns) are collected, not thrown.
 */
async function matchAnnotation(params: AnnotateParams): Promise<MatchedAnnotation> {
  const { registry } = params;
  const { store, dir } = await resolveStore(registry, params.storeKey);
  const name = basename(params.from);
  let text: string;
  try {
    text = readFileSync(params.from, 'utf8');
  } catch (err) {
    throw new CellarError('not_found', `${params.from} cannot be read: ${(err as Error).message}.`);
  }
  const table = parseDelimited(text, params.from);
  const idCol = table.header.indexOf('obs_id');
  if (idCol === -1) throw new CellarError('id_mismatch', `${name} needs an obs_id column naming the cells (its columns: ${table.header.join(', ')}).`);
  const newNames = table.header.filter((_, i) => i !== idCol);
  if (!newNames.length) throw new CellarError('bad_element', `${name} has no columns besides obs_id.`);
  const problems: string[] = [];
  const reserved = newNames.filter((n) => (RESERVED_OBS as readonly string[]).includes(n));
  if (reserved.length) problems.push(`${name} would replace ${reserved.join(', ')}, which Cellar maintains itself.`);
  const dupCols = newNames.filter((n, i) => newNames.indexOf(n) !== i);
  if (dupCols.length) problems.push(`${name} names the column ${dupCols[0]} twice.`);

  const reader = openStore(dir, store.version);
  let rowOf: Int32Array;
  let existingColumns: string[];
  let nObs: number;
  const unknown: string[] = [];
  try {
    nObs = reader.nObs;
    existingColumns = reader.obs.columnNames;
    const ids = reader.obs.column('obs_id');
    if (!ids) throw new CellarError('bad_element', `The store ${store.key} has no obs_id column.`);
    const position = new Map<string, number>();
    for (let i = 0; i < nObs; i++) position.set(stringAt(ids, i) ?? '', i);
    rowOf = new Int32Array(nObs).fill(-1);
    const seen = new Set<string>();
    table.rows.forEach((r, line) => {
      const id = r[idCol]!;
      if (seen.has(id)) {
        problems.push(`${name}: obs_id ${id} appears twice (line ${line + 2}).`);
        return;
      }
      seen.add(id);
      const p = position.get(id);
      if (p === undefined) unknown.push(id);
      else rowOf[p] = line;
    });
  } finally {
    reader.close();
  }
  if (unknown.length) problems.push(`${unknown.length} obs_id${unknown.length > 1 ? 's' : ''} in ${name} ${unknown.length > 1 ? 'are' : 'is'} not in the store ${store.key}.`);
  const nMatched = table.rows.length - unknown.length;
  const columns = newNames.map((col) => {
    const j = table.header.indexOf(col);
    const values = Array.from(rowOf, (line) => (line < 0 ? null : table.rows[line]![j]!));
    return { name: col, column: inferColumn(values), examples: [...new Set(table.rows.slice(0, 50).map((r) => r[j]!))].slice(0, 5) };
  });
  const preview: AnnotationPreview = {
    store: { uid: store.uid, key: store.key, version: store.version, n_obs: nObs },
    file: name,
    n_rows: table.rows.length,
    n_matched: nMatched,
    n_missing: nObs - nMatched,
    unknown_ids: unknown.slice(0, 50),
    n_unknown: unknown.length,
    columns: columns.map((c) => ({ name: c.name, dtype: c.column.kind === 'numeric' ? c.column.dtype : c.column.kind, replaced: existingColumns.includes(c.name), examples: c.examples })),
    problems,
  };
  return { preview, store, dir, columns: columns.map(({ name: n, column }) => ({ name: n, column })) };
}

/** The annotation's effect (columns, matched and missing cells, unknown ids), nothing written. */
export async function previewAnnotation(params: AnnotateParams): Promise<AnnotationPreview> {
  return (await matchAnnotation(params)).preview;
}

export async function annotateStore(params: AnnotateParams): Promise<AnnotateResult> {
  const { registry } = params;
  const { preview, store, dir, columns } = await matchAnnotation(params);
  if (preview.problems.length) {
    const code = preview.n_unknown || preview.problems.some((p) => p.includes('appears twice')) ? 'id_mismatch' : 'bad_element';
    const details = [...preview.problems.slice(1), ...preview.unknown_ids.map((id) => `unknown obs_id: ${id}`)];
    throw new CellarError(code, preview.problems[0]!, details);
  }
  const existing = new Set(preview.columns.filter((c) => c.replaced).map((c) => c.name));
  const written = await writeObsColumns({ registry, store, dir, fs: params.fs, checkpoint: params.checkpoint, signal: params.signal, columns, nObs: preview.store.n_obs, replaced: existing, runParams: { store: store.key, from: params.from, columns: columns.map((c) => c.name) }, message: annotationMessage(basename(params.from), columns.length) });
  return { ...written, n_matched: preview.n_matched, n_missing: preview.store.n_obs - preview.n_matched };
}

interface ObsColumnsWrite {
  registry: Registry;
  store: MatchedAnnotation['store'];
  dir: string;
  fs?: StoreFs;
  checkpoint?: AnnotateParams['checkpoint'];
  signal?: AbortSignal;
  columns: { name: string; column: Column }[];
  nObs: number;
  replaced: ReadonlySet<string>;
  /** What the run records (its lineage parameters). */
  runParams: Record<string, unknown>;
  /** The version's message: what the write did, in words. */
  message: string;
}

/** Writes obs columns as the store's next version, registered with an annotate run. */
async function writeObsColumns({ registry, store, dir, fs, checkpoint, signal, columns, nObs, replaced, runParams, message }: ObsColumnsWrite): Promise<Omit<AnnotateResult, 'n_matched' | 'n_missing'>> {
  const run = registry.startRun({ transform: 'annotate', params: runParams, inputArtifacts: [store.uid] });
  try {
    const writer = await createStoreWriter({ dir, baseVersion: store.version, fs, storeKey: store.key });
    let datasets: unknown;
    try {
      signal?.throwIfAborted();
      await refuseStaleBase(writer, store.version, store.key, 'the annotation was read');
      await writer.setObsColumns({ columns, nRows: nObs });
      datasets = readManifest(dir, store.version).meta.datasets ?? [];
    } catch (err) {
      await writer.abort();
      throw err;
    }
    const { stats, registered: version } = await commitStoreVersion({
      registry,
      writer,
      runUid: run.uid,
      meta: { runUid: run.uid, transform: 'annotate', storeKey: store.key, storeUid: store.uid, datasets },
      message,
      checkpoint,
      signal,
      register: (fields) => registry.addStoreVersion(store.stem, fields),
    });
    return {
      store: { uid: version.uid, key: version.key, version: version.version, n_observations: stats.nObs, n_vars: stats.nVars },
      run: { uid: run.uid },
      columns: columns.map((c) => ({ name: c.name, dtype: c.column.kind === 'numeric' ? c.column.dtype : c.column.kind, replaced: replaced.has(c.name) })),
    };
  } catch (err) {
    const cancelled = signal?.aborted || (err instanceof CellarError && err.code === 'cancelled');
    registry.failRun(run.uid, err instanceof Error ? err.message : String(err), cancelled ? 'cancelled' : 'failed');
    if (signal?.aborted && !(err instanceof CellarError && err.code === 'cancelled')) throw new CellarError('cancelled', 'The annotation was cancelled; the store is unchanged.');
    throw err;
  }
}

export interface SelectionGroup {
  label: string;
  /** soma_joinids of the cells. */
  joinids: readonly number[];
}

export interface SaveSelectionParams {
  registry: Registry;
  storeKey: string;
  /** The new categorical obs column. */
  column: string;
  groups: SelectionGroup[];
  /** The value of every other cell; missing (NA) when absent. */
  restLabel?: string;
  /** How the cells were picked, kept in the run's parameters: the embedding, the version shown, the shapes drawn. */
  lineage?: { embedding?: string; version?: number; polygons?: number[][] };
  fs?: StoreFs;
  checkpoint?: AnnotateParams['checkpoint'];
  signal?: AbortSignal;
}

/**
 * A selection of cells (one or more labelled groups of joinids) as a categorical obs column of
 * the store's next version, so it can be filtered, exported and compared like any annotation.
 */
export async function saveSelectionAsColumn(params: SaveSelectionParams): Promise<AnnotateResult> {
  const { registry, column, groups, restLabel } = params;
  const name = column.trim();
  if (!name) throw new CellarError('usage', 'Name the column the selection is saved in.');
  if ((RESERVED_OBS as readonly string[]).includes(name)) throw new CellarError('usage', `${name} is maintained by Cellar itself; save the selection under another name.`);
  if (!groups.length || groups.every((g) => g.joinids.length === 0)) throw new CellarError('usage', 'The selection is empty: select some cells first.');
  const labels = groups.map((g) => g.label.trim());
  if (labels.some((l) => !l)) throw new CellarError('usage', 'Every selection needs a label (the value its cells get).');
  const repeated = labels.find((l, i) => labels.indexOf(l) !== i || l === restLabel);
  if (repeated !== undefined) throw new CellarError('usage', `The label ${JSON.stringify(repeated)} is given twice; each group needs its own.`);
  const { store, dir } = await resolveStore(registry, params.storeKey);
  const reader = openStore(dir, store.version);
  let nObs: number;
  let replaced: boolean;
  try {
    nObs = reader.nObs;
    replaced = reader.obs.columnNames.includes(name);
  } finally {
    reader.close();
  }
  const restCode = restLabel !== undefined && restLabel.trim() ? labels.length : -1;
  const codes = new Int32Array(nObs).fill(restCode);
  const claimed = new Uint8Array(nObs);
  let nSelected = 0;
  groups.forEach((group, code) => {
    for (const joinid of group.joinids) {
      if (!Number.isInteger(joinid) || joinid < 0 || joinid >= nObs) throw new CellarError('id_mismatch', `Cell ${joinid} is not in ${store.key} (it has ${nObs} cells, joinids 0 to ${nObs - 1}).`);
      if (claimed[joinid]) throw new CellarError('usage', `Cell ${joinid} is in two selections (or twice in one); each cell can have one label.`);
      claimed[joinid] = 1;
      codes[joinid] = code;
      nSelected++;
    }
  });
  const categories = restCode >= 0 ? [...labels, restLabel!.trim()] : labels;
  const categorical: Column = { kind: 'category', codes, categories: { kind: 'string', values: categories }, ordered: false };
  const written = await writeObsColumns({
    registry,
    store,
    dir,
    fs: params.fs,
    checkpoint: params.checkpoint,
    signal: params.signal,
    columns: [{ name, column: categorical }],
    nObs,
    replaced: new Set(replaced ? [name] : []),
    runParams: {
      store: store.key,
      selection: { column: name, labels, rest: restLabel ?? null, n_cells: groups.map((g) => g.joinids.length), embedding: params.lineage?.embedding ?? null, version: params.lineage?.version ?? store.version, polygons: params.lineage?.polygons ?? [] },
      columns: [name],
    },
    message: selectionMessage(name, labels.length, nSelected),
  });
  return { ...written, n_matched: nSelected, n_missing: nObs - nSelected };
}
