// Append h5ad files to a store as a new version (SPEC §4 "Append"): a preflight
// compares the files with the store's schema and reports every problem at once;
// only then are new files written (existing data files are never touched).
import { basename, resolve } from 'node:path';
import { CellarError } from '../../../shared/errors';
import type { Registry } from '../../registry/registry';
import type { InspectReport } from '../formats/h5ad/inspect';
import { copyAndHashDataset, datasetKey, datasetSuffix, hashDataset, type DatasetHash } from './dataset-files';
import { openDataset } from '../formats/open-dataset';
import { isFloatDtype, isIntDtype, type DataFrame } from '../columns/column-model';
import type { DenseHandle } from '../formats/h5ad/types';
import { inspectAllInWorker } from '../formats/inspect-in-worker';
import type { ColumnEntry, StoreManifest } from '../store/format/manifest';
import { openStore, type StoreReader } from '../store/store-reader';
import { createStoreWriter } from '../store/store-writer';
import { storeWriteError, type StoreFs } from '../store/io/store-fs';
import { datasetMeta, RAW_MEASUREMENT, writeDatasets, X_LAYER, type MemberFile, type StoreResultJson } from './concatenate';
import { newArtifactUid } from '../../registry/uid';
import { defaultMeasurement } from './export';
import { distinctStrings, naColumn, stringAt } from '../columns/conversions';
import { describeDataset, describeGenes, duplicateIdsProblem, genesSummary, matchVarIds, matrixDtypeChanges, RESERVED_OBS, unionIds, RESERVED_VAR, restoreSourceNames, unifySymbolColumns, type ConcatPlan, type DatasetInfo, type FramePlan, type GenePlan, type GenesSummary, type PlanEntry } from './plan';
import { geneNamingOf } from '../store/genes';
import type { ProgressFn } from './progress';
import { describeField, fieldOf, unifyFields, widenInts, type FieldSchema } from '../columns/field-schema';
import { commitStoreVersion } from './commit-version';
import { registerAppendedFiles, type AppendedFile } from './store-records';
import { resolveStore } from './reconcile';
import { appendMessage } from '../../../shared/version-message';
import { refuseStaleBase } from './versioning';
import { managedStorageDir } from './import';
import { mkdir, rename, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';

export interface AppendParams {
  registry: Registry;
  home: string;
  storeKey: string;
  files: string[];
  fillMissing?: boolean;
  /** New obs columns of the files become store columns (NA for older cells) instead of being dropped. */
  addColumns?: boolean;
  makeUnique?: boolean;
  /** How the files' var ids are matched with the store's (default: as the store was made). */
  matchGenes?: GenePlan['naming']['match'];
  dryRun?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  fs?: StoreFs;
  checkpoint?: (name: string) => void | Promise<void>;
  readTimeoutMs?: number;
}

export interface Preflight {
  kept: PlanEntry[];
  dropped: PlanEntry[];
  converted: PlanEntry[];
  added: PlanEntry[];
  problems: string[];
  n_new_obs: number;
  n_new_vars: number;
  genes: GenesSummary;
}

/** A stored column's schema in the plan's terms. */
export function fieldOfEntry(entry: ColumnEntry): FieldSchema {
  const field: FieldSchema = { name: entry.name, dtype: entry.dtype };
  if (entry.dtype === 'category' && entry.categories) {
    field.categories = [...entry.categories.values];
    field.categoryType = entry.categories.kind === 'string' ? 'string' : entry.categories.kind === 'bool' ? 'bool' : (entry.categories.dtype ?? 'float64');
    field.ordered = entry.ordered ?? false;
  }
  if (entry.intDtype) field.intDtype = entry.intDtype;
  return field;
}

const NA_CAPABLE = new Set(['category', 'string', 'nullable-string', 'nullable-int', 'nullable-bool', 'float32', 'float64']);

/**
 * Whether a dataset's column fits a stored column without changing the store's type.
 * Returns the problem, or the new categories it brings.
 */
export function fitColumn(store: FieldSchema, incoming: FieldSchema, values: () => (string | number)[], where: string): { problem?: string; newCategories: (string | number)[] } {
  const clash = () => ({ problem: `${where} is ${describeField(incoming)} but the store has ${describeField(store)}.`, newCategories: [] });
  if (incoming.allMissing) return NA_CAPABLE.has(store.dtype) ? { newCategories: [] } : { problem: `${where} has only missing values, but the store's ${describeField(store)} column cannot hold NA.`, newCategories: [] };
  const isStringLike = (f: FieldSchema) => f.dtype === 'string' || f.dtype === 'nullable-string' || (f.dtype === 'category' && (f.categoryType ?? 'string') === 'string');
  switch (store.dtype) {
    case 'category': {
      const stringCats = (store.categoryType ?? 'string') === 'string';
      if (stringCats ? !isStringLike(incoming) : !(incoming.dtype === 'category' && incoming.categoryType !== 'string') && !isIntDtype(incoming.dtype) && !isFloatDtype(incoming.dtype)) return clash();
      if (store.ordered) {
        const same = incoming.dtype === 'category' && incoming.ordered && (incoming.categories ?? []).length === (store.categories ?? []).length && (incoming.categories ?? []).every((v, i) => v === store.categories![i]);
        if (!same) return { problem: `${where} must be an ordered categorical with the store's categories (${(store.categories ?? []).join(', ')}).`, newCategories: [] };
        return { newCategories: [] };
      }
      const known = new Set(store.categories ?? []);
      const fresh: (string | number)[] = [];
      for (const v of values()) {
        if (known.has(v)) continue;
        known.add(v);
        fresh.push(v);
      }
      return { newCategories: fresh };
    }
    case 'string':
    case 'nullable-string':
      return isStringLike(incoming) ? { newCategories: [] } : clash();
    case 'bool':
      return incoming.dtype === 'bool' ? { newCategories: [] } : clash();
    case 'nullable-bool':
      return incoming.dtype === 'bool' || incoming.dtype === 'nullable-bool' ? { newCategories: [] } : clash();
    case 'float64':
      return isFloatDtype(incoming.dtype) || isIntDtype(incoming.dtype) || incoming.dtype === 'nullable-int' || incoming.dtype === 'bool' ? { newCategories: [] } : clash();
    case 'float32':
      return incoming.dtype === 'float32' || ['int8', 'int16', 'uint8', 'uint16', 'bool'].includes(incoming.dtype) ? { newCategories: [] } : clash();
    case 'nullable-int': {
      const d = incoming.dtype === 'nullable-int' ? incoming.intDtype ?? 'int64' : incoming.dtype;
      return isIntDtype(d) && widenInts(store.intDtype ?? 'int64', d) === (store.intDtype ?? 'int64') ? { newCategories: [] } : clash();
    }
    default:
      if (isIntDtype(store.dtype)) return isIntDtype(incoming.dtype) && widenInts(store.dtype, incoming.dtype) === store.dtype ? { newCategories: [] } : clash();
      return clash();
  }
}

interface FrameFit {
  plan: FramePlan;
  problems: string[];
  kept: PlanEntry[];
  dropped: PlanEntry[];
  added: PlanEntry[];
  converted: PlanEntry[];
  /** Columns the store does not have yet (--add-columns), at the end of plan.fields. */
  newColumns: string[];
}

/** The same column able to hold NA: integers become nullable integers, bools nullable bools. */
function naCapable(field: FieldSchema): FieldSchema {
  if (isIntDtype(field.dtype)) return { name: field.name, dtype: 'nullable-int', intDtype: field.dtype };
  if (field.dtype === 'bool') return { name: field.name, dtype: 'nullable-bool' };
  return field;
}

/** Fits every dataset's frame to the store's columns (minus the ones Cellar adds). */
function fitFrame(element: 'obs' | 'var' | 'raw.var', storeColumns: ColumnEntry[], reserved: readonly string[], frames: DataFrame[], labels: string[], fillMissing: boolean, addColumns = false): FrameFit {
  const problems: string[] = [];
  const kept: PlanEntry[] = [];
  const dropped: PlanEntry[] = [];
  const added: PlanEntry[] = [];
  const converted: PlanEntry[] = [];
  const fields = storeColumns.filter((c) => !reserved.includes(c.name)).map(fieldOfEntry);
  const sources: FramePlan['sources'] = frames.map(() => []);
  for (const field of fields) {
    const fresh: (string | number)[] = [];
    frames.forEach((frame, d) => {
      const col = frame.columns.find((c) => c.name === field.name);
      const where = `${element} column "${field.name}" in ${labels[d]}`;
      if (!col) {
        if (!fillMissing) problems.push(`${where} is missing (the store has it; use --fill-missing to fill it with NA).`);
        else if (!NA_CAPABLE.has(field.dtype)) problems.push(`${where} is missing and the store's ${describeField(field)} column cannot hold NA.`);
        else converted.push({ element, name: field.name, detail: `missing in ${labels[d]}: filled with NA` });
        sources[d]!.push({ sourceName: '', field: { ...field, allMissing: true } });
        return;
      }
      const incoming = fieldOf(col.name, col.column);
      const values = () => (field.categoryType && field.categoryType !== 'string' ? distinctStrings(col.column).map(Number) : distinctStrings(col.column));
      const fit = fitColumn(field, incoming, values, where);
      if (fit.problem) problems.push(fit.problem);
      for (const v of fit.newCategories) if (!fresh.includes(v)) fresh.push(v);
      if (describeField(incoming) !== describeField(field) && !fit.problem) converted.push({ element, name: field.name, detail: `${describeField(incoming)} in ${labels[d]} → ${describeField(field)}` });
      sources[d]!.push({ sourceName: col.name, field: incoming });
    });
    kept.push({ element, name: field.name, detail: describeField(field) });
    if (fresh.length) {
      field.categories = [...(field.categories ?? []), ...fresh];
      added.push({ element, name: field.name, detail: `new categories: ${fresh.map((v) => JSON.stringify(v)).join(', ')}` });
    }
  }
  const known = new Set(storeColumns.map((c) => c.name));
  const fresh = new Map<string, { label: string; field: FieldSchema; distinctStrings: () => string[] }[]>();
  frames.forEach((frame, d) => {
    for (const c of frame.columns) {
      if (known.has(c.name)) continue;
      if (!addColumns || reserved.includes(c.name)) {
        const why = reserved.includes(c.name) ? 'its name is reserved for the column Cellar adds' : 'use --add-columns to add it';
        dropped.push({ element, name: c.name, detail: `in ${labels[d]} but not in the store (${why})` });
        continue;
      }
      const inputs = fresh.get(c.name) ?? [];
      inputs.push({ label: labels[d]!, field: fieldOf(c.name, c.column), distinctStrings: () => distinctStrings(c.column) });
      fresh.set(c.name, inputs);
    }
  });
  // --add-columns: a column new to the store, unified over the files that have it; older
  // cells (and files without it) read NA, so its type must hold NA.
  for (const [name, inputs] of fresh) {
    const unified = unifyFields(name, inputs);
    problems.push(...unified.problems.map((p) => p.replace(/^obs column/, `${element} column`)));
    const field = naCapable(unified.field);
    fields.push(field);
    frames.forEach((frame, d) => {
      const col = frame.columns.find((c) => c.name === name);
      sources[d]!.push(col ? { sourceName: col.name, field: fieldOf(col.name, col.column) } : { sourceName: '', field: { ...field, allMissing: true } });
    });
    const lacking = labels.filter((_, d) => !frames[d]!.columns.some((c) => c.name === name));
    added.push({ element, name, detail: `new column (${describeField(field)}): NA for the cells already in the store${lacking.length ? ` and for ${lacking.join(', ')}` : ''}` });
    for (const c of unified.conversions) converted.push({ element, name, detail: c });
    if (describeField(field) !== describeField(unified.field)) converted.push({ element, name, detail: `${describeField(unified.field)} → ${describeField(field)} so that older cells can be NA` });
  }
  return { plan: { fields, sources }, problems, kept, dropped, added, converted, newColumns: [...fresh.keys()] };
}

function stringColumn(reader: StoreReader['obs'], name: string): string[] {
  const col = reader.column(name);
  if (!col) return [];
  const n = reader.nRows;
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = stringAt(col, i) ?? '';
  return out;
}

/** Compares the new datasets with the store and builds the write plan. */
export function planAppend(reader: StoreReader, datasets: DatasetInfo[], options: { fillMissing: boolean; makeUnique: boolean; addColumns?: boolean; matchGenes?: GenePlan['naming']['match'] }): { plan: ConcatPlan; obsmFilled: ConcatPlan['obsm']; newObsColumns: string[]; preflight: Preflight } {
  const manifest: StoreManifest = reader.manifest;
  const measurement = defaultMeasurement(reader);
  const labels = datasets.map((d) => d.label);
  const problems: string[] = [];
  const kept: PlanEntry[] = [];
  const dropped: PlanEntry[] = datasets.flatMap((d) => d.formatDropped ?? []);
  const converted: PlanEntry[] = [];
  const added: PlanEntry[] = [];
  const collect = (f: FrameFit) => {
    problems.push(...f.problems);
    kept.push(...f.kept);
    dropped.push(...f.dropped);
    converted.push(...f.converted);
    added.push(...f.added);
  };

  const obsFit = fitFrame('obs', manifest.obs.columns, RESERVED_OBS, datasets.map((d) => d.obs), labels, options.fillMissing, !!options.addColumns);
  collect(obsFit);
  const ms = manifest.ms[measurement]!;
  // Symbols go to the store's symbol column whatever a file calls its own.
  const storeNaming = geneNamingOf(reader, measurement);
  const symbols = unifySymbolColumns(datasets, undefined, { converted, problems }, storeNaming.symbolColumn);
  const varFit = fitFrame('var', ms.var.columns, RESERVED_VAR, symbols.frames, labels, true);
  restoreSourceNames(varFit.plan, symbols.renamed);
  collect(varFit);
  const naming = { ...storeNaming, match: options.matchGenes ?? storeNaming.match };
  const matched = matchVarIds(datasets.map((d) => d.var.index), labels, { match: naming.match, join: 'outer' }, stringColumn(reader.var(measurement), 'var_id'));
  problems.push(...matched.problems);
  const varIds = matched.ids;
  // A store written before presence was recorded cannot say what its older datasets measured: it stays unrecorded.
  const genes: GenePlan = { naming, merged: matched.merged, missing: matched.missing, recordPresence: reader.presence(measurement) !== null };
  describeGenes(genes, varIds.ids.length, { kept, dropped, converted }, true);
  const newGenes = varIds.ids.length - reader.nVars(measurement);
  if (newGenes > 0) added.push({ element: 'var', name: 'genes', detail: `${newGenes} new gene${newGenes > 1 ? 's' : ''}: ${varIds.ids.slice(reader.nVars(measurement), reader.nVars(measurement) + 10).join(', ')}${newGenes > 10 ? ', …' : ''} (${genes.recordPresence ? 'cells already in the store did not measure them: "not measured" there' : 'existing cells read 0 there'})` });

  // obs ids: unique within the new files and against the store.
  const existingIds = new Set(stringColumn(reader.obs, 'obs_id'));
  const obsIds: string[] = [];
  const seen = new Map<string, string>();
  const dupes: { id: string; where: string }[] = [];
  datasets.forEach((ds, d) => {
    for (const id of ds.obs.index) {
      let out = id;
      const clash = existingIds.has(id) ? 'the store' : seen.get(id);
      if (clash !== undefined) {
        if (options.makeUnique) {
          out = `${id}-${d}`;
          for (let k = 1; existingIds.has(out) || seen.has(out); k++) out = `${id}-${d}-${k}`;
        } else dupes.push({ id, where: clash === ds.label ? `twice in ${ds.label}` : `in ${clash} and ${ds.label}` });
      }
      if (!seen.has(out)) seen.set(out, ds.label);
      obsIds.push(out);
    }
  });
  if (dupes.length) problems.push(duplicateIdsProblem(dupes));

  const obsOffsets = [0];
  for (const d of datasets) obsOffsets.push(obsOffsets[obsOffsets.length - 1]! + d.nObs);
  const nNew = obsOffsets[obsOffsets.length - 1]!;
  added.push({ element: 'obs', name: 'cells', detail: `${nNew} new cell${nNew === 1 ? '' : 's'}` });

  // X and obsm the store has, every new file must have (obsm: or --fill-missing); layers and raw not.
  const storeLayers = Object.keys(ms.X).filter((l) => l !== 'data');
  for (const d of datasets) if (!d.hasX) problems.push(`${d.label} has no X; the store needs it.`);
  // As in tiledbsoma, a file without a layer the store has is appended anyway: its cells
  // simply have no entries there (they read as empty rows).
  for (const layer of storeLayers) {
    const missing = datasets.filter((d) => !d.layers.includes(layer));
    kept.push({ element: 'layers', name: layer });
    if (missing.length) converted.push({ element: 'layers', name: layer, detail: `missing in ${missing.map((d) => d.label).join(', ')}: those cells have no entries in this layer (they read as empty rows)` });
  }
  const storeX = ms.X[X_LAYER];
  if (storeX) converted.push(...matrixDtypeChanges('X', 'X', [{ label: 'the store', dtype: storeX.dtype }, ...datasets.map((d) => ({ label: d.label, dtype: d.xDtype }))]));
  for (const layer of storeLayers) converted.push(...matrixDtypeChanges('layers', layer, [{ label: 'the store', dtype: ms.X[layer]!.dtype }, ...datasets.map((d) => ({ label: d.label, dtype: d.layerDtypes?.get(layer) }))]));
  for (const d of datasets) for (const l of d.layers) if (!storeLayers.includes(l)) dropped.push({ element: 'layers', name: l, detail: `in ${d.label} but not in the store` });
  // obsm every new file has is copied; one some files lack (an embedding computed in the
  // store, say) gives their cells NaN rows with --fill-missing, like a missing obs column.
  const obsm: ConcatPlan['obsm'] = [];
  const obsmFilled: ConcatPlan['obsm'] = [];
  for (const [name, entry] of Object.entries(ms.obsm)) {
    const width = entry.nCols;
    const lacking: string[] = [];
    for (const d of datasets) {
      const shape = d.obsm.get(name);
      if (!shape) lacking.push(d.label);
      else if (shape.length === 0) problems.push(`obsm "${name}" in ${d.label} is not a dense numeric array; the store's is.`);
      else if (shape[1] !== width) problems.push(`obsm "${name}" in ${d.label} has ${shape[1]} columns; the store's has ${width}.`);
    }
    if (!lacking.length) obsm.push({ name, width });
    else if (!options.fillMissing) problems.push(`obsm "${name}" is missing in ${lacking.join(', ')} (the store has it; use --fill-missing to give those cells NaN rows).`);
    else {
      obsmFilled.push({ name, width });
      converted.push({ element: 'obsm', name, detail: `missing in ${lacking.join(', ')}: those cells get NaN rows` });
    }
  }
  for (const d of datasets) {
    for (const k of d.obsm.keys()) if (!ms.obsm[k]) dropped.push({ element: 'obsm', name: k, detail: `in ${d.label} but not in the store` });
    for (const k of d.uns) dropped.push({ element: 'uns', name: k, detail: `uns is not carried (${d.label})` });
    for (const k of d.obsp) dropped.push({ element: 'obsp', name: k, detail: `pairwise matrices are not carried (${d.label})` });
  }
  const varm = Object.entries(ms.varm).map(([name, entry]) => ({ name, width: entry.nCols }));
  if (varm.length) converted.push({ element: 'varm', name: varm.map((v) => v.name).join(', '), detail: 'rows of new genes are NaN' });

  let raw: ConcatPlan['raw'] = null;
  const rawMs = manifest.ms[RAW_MEASUREMENT];
  if (rawMs) {
    // A file without raw is appended with a notice, as tiledbsoma does: its cells have no raw.X rows.
    const withRaw = datasets.map((d, i) => (d.raw ? i : -1)).filter((i) => i >= 0);
    const missing = datasets.filter((d) => !d.raw);
    if (missing.length) converted.push({ element: 'raw', name: 'raw', detail: `missing in ${missing.map((d) => d.label).join(', ')}: those cells have no raw.X entries (they read as empty rows)` });
    const rawFit = fitFrame('raw.var', rawMs.var.columns, RESERVED_VAR, withRaw.map((i) => datasets[i]!.raw!.var), withRaw.map((i) => labels[i]!), true);
    collect(rawFit);
    // Back to one entry per dataset: files without raw contribute no genes and no rows.
    const sources: FramePlan['sources'] = datasets.map(() => []);
    withRaw.forEach((i, k) => (sources[i] = rawFit.plan.sources[k]!));
    const rawIds = unionIds(withRaw.map((i) => datasets[i]!.raw!.var.index), stringColumn(reader.var(RAW_MEASUREMENT), 'var_id'));
    const localToGlobal: Int32Array[] = datasets.map(() => new Int32Array(0));
    withRaw.forEach((i, k) => (localToGlobal[i] = rawIds.localToGlobal[k]!));
    const firstDataset = rawIds.firstDataset.map((k) => (k < 0 ? k : withRaw[k]!));
    raw = { var: { fields: rawFit.plan.fields, sources }, varIds: { ...rawIds, localToGlobal, firstDataset }, X: 'data' in rawMs.X };
    for (const d of datasets) for (const k of d.raw?.varm ?? []) if (!rawMs.varm[k]) dropped.push({ element: 'raw.varm', name: k, detail: `in ${d.label} but not in the store` });
    for (const name of Object.keys(rawMs.varm)) converted.push({ element: 'raw.varm', name, detail: 'rows of new raw genes are NaN' });
  } else {
    for (const d of datasets) if (d.raw) dropped.push({ element: 'raw', name: 'raw', detail: `in ${d.label} but the store has no raw` });
  }

  const plan: ConcatPlan = {
    measurement,
    nObs: nNew,
    obs: obsFit.plan,
    var: varFit.plan,
    varIds,
    obsIds,
    obsOffsets,
    X: true,
    layers: storeLayers,
    obsm,
    varm: [],
    raw,
    genes,
    kept,
    dropped,
    converted,
    added,
    problems,
  };
  return { plan, obsmFilled, newObsColumns: obsFit.newColumns, preflight: { kept, dropped, converted, added, problems, n_new_obs: nNew, n_new_vars: Math.max(0, newGenes), genes: genesSummary(genes) } };
}

export type AppendResult = { plan: Preflight } | (StoreResultJson & { plan: Preflight });

export async function appendToStore(params: AppendParams): Promise<AppendResult> {
  const { registry } = params;
  const { store, dir } = await resolveStore(registry, params.storeKey);
  if (!params.files.length) throw new CellarError('usage', 'Name at least one .h5ad file to append.');
  const files = params.files.map((f) => resolve(f));

  // Read every file in a worker under a time limit first: a damaged file is refused before anything.
  const checked: ({ path: string; report: InspectReport } & DatasetHash)[] = [];
  const reports = await inspectAllInWorker(files, { timeoutMs: params.readTimeoutMs, signal: params.signal });
  for (const [i, path] of files.entries()) {
    const h = await hashDataset(path, params.signal);
    checked.push({ path, report: reports[i]!, ...h });
  }
  const datasets: DatasetInfo[] = [];
  for (const path of files) {
    params.signal?.throwIfAborted();
    const file = await openDataset(path);
    try {
      datasets.push(describeDataset(datasetKey(path), file));
    } finally {
      file.close();
    }
  }
  const reader = openStore(dir, store.version);
  let planned: ReturnType<typeof planAppend>;
  try {
    planned = planAppend(reader, datasets, { fillMissing: !!params.fillMissing, makeUnique: !!params.makeUnique, addColumns: !!params.addColumns, matchGenes: params.matchGenes });
  } finally {
    reader.close();
  }
  const { plan, obsmFilled, newObsColumns, preflight } = planned;
  if (params.dryRun) return { plan: preflight };
  if (preflight.problems.length) {
    const n = preflight.problems.filter((p) => !p.startsWith('Use --')).length;
    throw new CellarError('preflight_failed', `The files cannot be appended to ${store.key} (${n} problem${n === 1 ? '' : 's'}).`, preflight.problems);
  }

  // Copy the new files into the home, write the version, and only after the commit point
  // register the artifacts and the version together: a failure leaves the registry as it was.
  const run = registry.startRun({ transform: 'append', params: { store: store.key, files, fillMissing: !!params.fillMissing, addColumns: !!params.addColumns, makeUnique: !!params.makeUnique, matchGenes: plan.genes.naming.match }, inputArtifacts: [store.uid] });
  const copies: string[] = [];
  let committed = false;
  try {
    const storage = managedStorageDir(params.home);
    await mkdir(storage, { recursive: true });
    const members: (MemberFile & { existing: boolean; check: (typeof checked)[number] })[] = [];
    for (const [i, f] of checked.entries()) {
      const existing = registry.findArtifactByHash(f.hash, f.size, 'h5ad');
      if (existing) {
        members.push({ uid: existing.uid, key: existing.key, hash: existing.hash, storagePath: existing.storagePath, existing: true, check: f });
        continue;
      }
      const target = join(storage, `${run.uid}-${i}${datasetSuffix(f.path)}`);
      copies.push(`${target}.partial`, target);
      const copied = await copyAndHashDataset(f.path, `${target}.partial`).catch((err: unknown) => {
        throw storeWriteError(err, `the copy of ${basename(f.path)} in the home's storage`);
      });
      // The copy is what the store is made from: it must be the file that was checked.
      if (copied.hash !== f.hash || copied.size !== f.size) throw new CellarError('io_error', `${basename(f.path)} changed while it was being appended; nothing was written. Try again once it stays the same.`);
      await rename(`${target}.partial`, target);
      members.push({ uid: newArtifactUid().uid, key: datasetKey(f.path), hash: f.hash, storagePath: target, existing: false, check: f });
    }
    const previous = openStore(dir, store.version);
    const priorDatasets = Array.isArray(previous.manifest.meta.datasets) ? (previous.manifest.meta.datasets as unknown[]) : [];
    const varBase = {
      obsOffset: previous.nObs,
      main: { existing: previous.nVars(plan.measurement) },
      raw: plan.raw ? { existing: previous.nVars(RAW_MEASUREMENT) } : undefined,
    };
    previous.close();
    const writer = await createStoreWriter({ dir, baseVersion: store.version, fs: params.fs, storeKey: store.key });
    try {
      await refuseStaleBase(writer, store.version, store.key, 'the files were checked');
      // New columns first, NA for every cell already in the store; the new rows then carry them.
      const fresh = plan.obs.fields.filter((f) => newObsColumns.includes(f.name));
      if (fresh.length) await writer.setObsColumns({ columns: fresh.map((f) => ({ name: f.name, column: naColumn(f, writer.nObs) })), nRows: writer.nObs });
      await writeDatasets(writer, plan, members, run.uid, priorDatasets.length, params, varBase);
      await appendObsmFilled(writer, plan, obsmFilled, members, varBase.obsOffset);
      await appendVarmForNewGenes(writer, plan.measurement, plan.varIds.ids.length - varBase.main.existing, varBase.main.existing, dir, store.version);
      if (plan.raw && varBase.raw) await appendVarmForNewGenes(writer, RAW_MEASUREMENT, plan.raw.varIds.ids.length - varBase.raw.existing, varBase.raw.existing, dir, store.version);
    } catch (err) {
      await writer.abort();
      throw err;
    }
    // The manifest records the files too: a version whose writer dies after the commit
    // point is then registered by reconciliation with the same artifacts and run inputs.
    const appended = members.map((m) => appendedFile(m, registry.home));
    const { stats, registered: version } = await commitStoreVersion({
      registry,
      writer,
      runUid: run.uid,
      meta: { runUid: run.uid, transform: 'append', storeKey: store.key, storeUid: store.uid, datasets: [...priorDatasets, ...datasetMeta(members, priorDatasets.length)], appended },
      message: appendMessage(files.map((f) => basename(f)), plan.nObs, plan.varIds.ids.length - varBase.main.existing),
      measurement: plan.measurement,
      checkpoint: params.checkpoint,
      onSaving: () => params.onProgress?.({ phase: `Saving version ${store.version + 1} of ${store.key}`, done: 0, total: 1 }),
      signal: params.signal,
      onCommitted: (kept) => (committed = kept),
      register: (fields) => {
        registerAppendedFiles(registry, run.uid, appended);
        return registry.addStoreVersion(store.stem, fields);
      },
    });
    return { plan: preflight, store: { uid: version.uid, key: version.key, version: version.version, n_observations: stats.nObs, n_vars: stats.nVars }, run: { uid: run.uid } };
  } catch (err) {
    // Once committed, the version's manifest names the copies: reconciliation registers them.
    if (!committed) for (const c of copies) await rm(c, { recursive: true, force: true });
    registry.failRun(run.uid, err instanceof Error ? err.message : String(err), params.signal?.aborted ? 'cancelled' : 'failed');
    throw err;
  }
}

/** What the manifest keeps of one appended file (see AppendedFile). */
function appendedFile(m: MemberFile & { existing: boolean; check: { path: string; report: InspectReport } & DatasetHash }, home: string): AppendedFile {
  const inHome = relative(home, m.storagePath);
  const storagePath = inHome && !inHome.startsWith('..') && !isAbsolute(inHome) ? inHome.split(sep).join('/') : m.storagePath;
  const f = m.check;
  return { uid: m.uid, existing: m.existing, key: m.key, source: f.path, suffix: datasetSuffix(f.path), size: f.size, hash: f.hash, hashType: f.hashType, nFiles: f.nFiles, nObservations: f.report.n_obs, nVars: f.report.n_vars, storagePath };
}

/** varm rows for genes the store did not have yet: NaN (their values are unknown). */
async function appendVarmForNewGenes(writer: Awaited<ReturnType<typeof createStoreWriter>>, measurement: string, nNew: number, existing: number, dir: string, version: number): Promise<void> {
  if (nNew <= 0) return;
  const reader = openStore(dir, version);
  try {
    for (const name of reader.varmNames(measurement)) {
      const width = reader.manifest.ms[measurement]!.varm[name]!.nCols;
      await writer.appendVarmRows(measurement, name, existing, { shape: [nNew, width], values: new Float64Array(nNew * width).fill(NaN) });
    }
  } finally {
    reader.close();
  }
}

/** Rows of obsm some new files lack: the file's values where it has them, NaN where not. */
async function appendObsmFilled(writer: Awaited<ReturnType<typeof createStoreWriter>>, plan: ConcatPlan, filled: ConcatPlan['obsm'], members: MemberFile[], obsOffset: number): Promise<void> {
  for (const { name, width } of filled) {
    for (const [d, member] of members.entries()) {
      const nRows = plan.obsOffsets[d + 1]! - plan.obsOffsets[d]!;
      const file = await openDataset(member.storagePath);
      try {
        const handle = file.obsm.get(name) as DenseHandle | undefined;
        const values = handle ? Float64Array.from(handle.read() as ArrayLike<number>, Number) : new Float64Array(nRows * width).fill(NaN);
        await writer.appendObsmRows(plan.measurement, name, obsOffset + plan.obsOffsets[d]!, { shape: [nRows, width], values });
      } finally {
        file.close();
      }
    }
  }
}
