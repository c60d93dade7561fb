// The concatenation plan (SPEC §4): what is kept, dropped, converted and added
// when an ordered list of datasets becomes one store. Computed from metadata only,
// shown to the user before anything is written.
import type { DroppedPart } from '../formats/source';
import type { DataFrame } from '../columns/column-model';
import type { H5adFile } from '../formats/h5ad/types';
import { distinctStrings } from '../columns/conversions';
import { fieldOf, unifyFields, type FieldSchema } from '../columns/field-schema';

/** Columns Cellar adds; a dataset column with one of these names is renamed. */
export const RESERVED_OBS = ['soma_joinid', 'obs_id', 'dataset', 'cellar_run_uid'] as const;
export const RESERVED_VAR = ['soma_joinid', 'var_id'] as const;

export interface DatasetInfo {
  label: string;
  uid?: string;
  nObs: number;
  nVars: number;
  obs: DataFrame;
  var: DataFrame;
  hasX: boolean;
  /** dtype of X and of each layer, as the file stores them. */
  xDtype?: string;
  layerDtypes?: Map<string, string>;
  layers: string[];
  obsm: Map<string, number[]>;
  varm: Map<string, number[]>;
  obsp: string[];
  varp: string[];
  uns: string[];
  raw: { var: DataFrame; hasX: boolean; varm: string[]; varmShapes: Map<string, number[]> } | null;
  /** What the file's format has that no store keeps (10x feature types besides Gene Expression, loom graphs). */
  formatDropped?: DroppedPart[];
}

export function describeDataset(label: string, file: H5adFile, uid?: string): DatasetInfo {
  // Only dense numeric arrays can be carried (stored densely); sparse or data-frame entries get no shape.
  const shapeOf = (h: unknown): number[] => {
    const x = h as { shape?: number[]; read?: unknown; dtype?: string };
    if (Array.isArray(x.shape) && typeof x.read === 'function' && x.dtype !== 'string') return x.shape;
    return [];
  };
  return {
    label,
    uid,
    nObs: file.nObs,
    nVars: file.nVars,
    obs: file.obs,
    var: file.var,
    hasX: file.X !== null,
    xDtype: file.X?.dtype,
    layerDtypes: new Map([...file.layers].map(([k, v]) => [k, v.dtype])),
    layers: [...file.layers.keys()],
    obsm: new Map([...file.obsm].map(([k, v]) => [k, shapeOf(v)])),
    varm: new Map([...file.varm].map(([k, v]) => [k, shapeOf(v)])),
    obsp: [...file.obsp.keys()],
    varp: [...file.varp.keys()],
    uns: file.unsKeys,
    raw: file.raw ? { var: file.raw.var, hasX: file.raw.X !== null, varm: [...file.raw.varm.keys()], varmShapes: new Map([...file.raw.varm].map(([k, v]) => [k, shapeOf(v)])) } : null,
    formatDropped: ((file as { dropped?: DroppedPart[] }).dropped ?? []).map((d) => ({ ...d, detail: `${d.detail} (${label})` })),
  };
}

export interface PlanEntry {
  element: 'obs' | 'var' | 'raw.var' | 'obsm' | 'varm' | 'layers' | 'raw' | 'obsp' | 'varp' | 'uns' | 'X' | 'raw.varm' | DroppedPart['element'];
  name: string;
  detail?: string;
}

export interface ColumnSource {
  /** The dataset's own column name (differs from the field name when renamed). */
  sourceName: string;
  field: FieldSchema;
}

export interface FramePlan {
  fields: FieldSchema[];
  /** For each dataset, for each kept field (same order): where its values come from. */
  sources: ColumnSource[][];
}

export interface IdSpace {
  /** Unified ids in first-seen order. */
  ids: string[];
  /** Per dataset: local position → unified position. */
  localToGlobal: Int32Array[];
  /** Per unified id: the dataset that first had it (its var values are taken from there). */
  firstDataset: Int32Array;
  firstLocal: Int32Array;
}

export interface ConcatPlan {
  measurement: string;
  nObs: number;
  obs: FramePlan;
  var: FramePlan;
  varIds: IdSpace;
  obsIds: string[];
  /** Cumulative cell offsets per dataset (length datasets + 1). */
  obsOffsets: number[];
  X: boolean;
  layers: string[];
  obsm: { name: string; width: number }[];
  varm: { name: string; width: number }[];
  /** raw.X and raw.var as their own measurement; varm: raw.varm carried like varm. */
  raw: { var: FramePlan; varIds: IdSpace; X: boolean; varm?: { name: string; width: number }[] } | null;
  kept: PlanEntry[];
  dropped: PlanEntry[];
  converted: PlanEntry[];
  added: PlanEntry[];
  problems: string[];
}

export interface PlanOptions {
  measurement?: string;
  makeUnique?: boolean;
  /** obs ids already in the store (append): new ids must not collide with them. */
  existingObsIds?: ReadonlySet<string>;
}

export function planConcatenation(datasets: DatasetInfo[], options: PlanOptions = {}): ConcatPlan {
  const kept: PlanEntry[] = [];
  const dropped: PlanEntry[] = datasets.flatMap((d) => d.formatDropped ?? []);
  const converted: PlanEntry[] = [];
  const added: PlanEntry[] = [];
  const problems: string[] = [];
  const labels = datasets.map((d) => d.label);

  const obs = planFrame('obs', datasets.map((d) => d.obs), labels, RESERVED_OBS, { kept, dropped, converted, problems });
  const varPlan = planFrame('var', datasets.map((d) => d.var), labels, RESERVED_VAR, { kept, dropped, converted, problems });
  const varIds = unionIds(datasets.map((d) => d.var.index));

  // obs ids: unique across inputs and the existing store, or suffixed on request.
  const obsOffsets = [0];
  for (const d of datasets) obsOffsets.push(obsOffsets[obsOffsets.length - 1]! + d.nObs);
  const { ids: obsIds, duplicates } = resolveObsIds(datasets, options.existingObsIds ?? new Set(), options.makeUnique ?? false);
  if (duplicates.length) problems.push(duplicateIdsProblem(duplicates.map((d) => ({ id: d.id, where: `in ${d.where.join(' and ')}` }))));

  const X = datasets.every((d) => d.hasX);
  if (!X) problems.push(`X is missing in ${datasets.filter((d) => !d.hasX).map((d) => d.label).join(', ')}; every dataset needs X.`);
  else kept.push({ element: 'X', name: 'X' });

  const layers = intersectNames(datasets.map((d) => d.layers), 'layers', labels, kept, dropped);
  if (X) converted.push(...matrixDtypeChanges('X', 'X', datasets.map((d) => ({ label: d.label, dtype: d.xDtype }))));
  for (const layer of layers) converted.push(...matrixDtypeChanges('layers', layer, datasets.map((d) => ({ label: d.label, dtype: d.layerDtypes?.get(layer) }))));
  const obsm = carryDense(datasets.map((d) => d.obsm), 'obsm', labels, kept, dropped);
  const varm = carryDense(datasets.map((d) => d.varm), 'varm', labels, kept, dropped);
  for (const [i, d] of datasets.entries()) {
    for (const k of d.obsp) dropped.push({ element: 'obsp', name: k, detail: `pairwise matrices are not carried (${labels[i]})` });
    for (const k of d.varp) dropped.push({ element: 'varp', name: k, detail: `pairwise matrices are not carried (${labels[i]})` });
    for (const k of d.uns) dropped.push({ element: 'uns', name: k, detail: `uns is not carried (${labels[i]})` });
  }

  let raw: ConcatPlan['raw'] = null;
  if (datasets.length && datasets.every((d) => d.raw)) {
    const rawVar = planFrame('raw.var', datasets.map((d) => d.raw!.var), labels, RESERVED_VAR, { kept, dropped, converted, problems });
    const rawX = datasets.every((d) => d.raw!.hasX);
    const rawVarm = carryDense(datasets.map((d) => d.raw!.varmShapes), 'raw.varm', labels, kept, dropped);
    raw = { var: rawVar, varIds: unionIds(datasets.map((d) => d.raw!.var.index)), X: rawX, varm: rawVarm };
    kept.push({ element: 'raw', name: 'raw', detail: rawX ? 'raw.X and raw.var as measurement "raw"' : 'raw.var only' });
  } else if (datasets.some((d) => d.raw)) {
    dropped.push({ element: 'raw', name: 'raw', detail: `raw is missing in ${datasets.filter((d) => !d.raw).map((d) => d.label).join(', ')}` });
  }

  added.push({ element: 'obs', name: 'obs_id', detail: 'original obs index' });
  added.push({ element: 'obs', name: 'dataset', detail: 'position of the dataset in the collection' });
  added.push({ element: 'obs', name: 'cellar_run_uid', detail: 'the run that wrote the cell' });
  added.push({ element: 'var', name: 'var_id', detail: 'original var index' });

  return {
    measurement: options.measurement ?? 'RNA',
    nObs: obsOffsets[obsOffsets.length - 1]!,
    obs,
    var: varPlan,
    varIds,
    obsIds,
    obsOffsets,
    X,
    layers,
    obsm,
    varm,
    raw,
    kept,
    dropped,
    converted,
    added,
    problems,
  };
}

interface PlanLists {
  kept: PlanEntry[];
  dropped: PlanEntry[];
  converted: PlanEntry[];
  problems: string[];
}

function planFrame(element: 'obs' | 'var' | 'raw.var', frames: DataFrame[], labels: string[], reserved: readonly string[], lists: PlanLists): FramePlan {
  // A dataset column named like a column Cellar adds keeps its values under "<name>_original".
  const renamed = (name: string) => (reserved.includes(name) ? `${name}_original` : name);
  const perDataset = frames.map((f) => new Map(f.columns.map((c) => [renamed(c.name), c])));
  const names: string[] = [];
  for (const c of frames[0]?.columns ?? []) {
    const name = renamed(c.name);
    if (perDataset.every((m) => m.has(name))) names.push(name);
  }
  const keptSet = new Set(names);
  frames.forEach((f, i) => {
    for (const c of f.columns) {
      const name = renamed(c.name);
      if (!keptSet.has(name)) {
        const missingIn = labels.filter((_, j) => !perDataset[j]!.has(name));
        lists.dropped.push({ element, name: c.name, detail: `in ${labels[i]} but not in ${missingIn.join(', ')}` });
      }
    }
  });
  const fields: FieldSchema[] = [];
  const sources: ColumnSource[][] = frames.map(() => []);
  for (const name of names) {
    const inputs = perDataset.map((m, i) => {
      const col = m.get(name)!;
      return { label: labels[i]!, field: fieldOf(name, col.column), distinctStrings: () => distinctStrings(col.column) };
    });
    const unified = unifyFields(name, inputs);
    fields.push(unified.field);
    for (const problem of unified.problems) lists.problems.push(element === 'obs' ? problem : problem.replace(/^obs column/, `${element} column`));
    for (const c of unified.conversions) lists.converted.push({ element, name, detail: c });
    const original = frames[0]!.columns.find((c) => renamed(c.name) === name)!.name;
    if (original !== name) lists.converted.push({ element, name, detail: `renamed from "${original}": the name is reserved for the column Cellar adds` });
    lists.kept.push({ element, name, detail: unified.field.dtype });
    perDataset.forEach((m, i) => {
      const col = m.get(name)!;
      sources[i]!.push({ sourceName: col.name, field: fieldOf(col.name, col.column) });
    });
  }
  return { fields, sources };
}

function unionIds(indexes: string[][]): IdSpace {
  const position = new Map<string, number>();
  const ids: string[] = [];
  const firstDataset: number[] = [];
  const firstLocal: number[] = [];
  const localToGlobal = indexes.map((index, d) => {
    const map = new Int32Array(index.length);
    for (let i = 0; i < index.length; i++) {
      const id = index[i]!;
      let g = position.get(id);
      if (g === undefined) {
        g = ids.length;
        position.set(id, g);
        ids.push(id);
        firstDataset.push(d);
        firstLocal.push(i);
      }
      map[i] = g;
    }
    return map;
  });
  return { ids, localToGlobal, firstDataset: Int32Array.from(firstDataset), firstLocal: Int32Array.from(firstLocal) };
}

const FLOATS = new Set(['float32', 'float64']);

/**
 * The plan line for a matrix whose datasets (or the store, on append) hold different dtypes.
 * Values are kept exactly; what readers get is decided as the data is written (see the store
 * writer's layerDtype): integers with floats cost no more than the values need.
 */
export function matrixDtypeChanges(element: 'X' | 'layers', name: string, sources: { label: string; dtype?: string }[]): PlanEntry[] {
  const known = sources.filter((s): s is { label: string; dtype: string } => !!s.dtype);
  const dtypes = [...new Set(known.map((s) => s.dtype))];
  if (dtypes.length < 2) return [];
  const floats = dtypes.filter((d) => FLOATS.has(d));
  const summary = known.map((s) => `${s.dtype} in ${s.label}`).join(', ');
  let result: string;
  if (!floats.length) result = 'the narrowest integer type holding both (integers stay integers)';
  else if (floats.includes('float64')) result = 'float64';
  else if (floats.length === dtypes.length) result = 'float32';
  else result = 'float32 where the integer values are below 65,536 (counts usually are; float32 holds them exactly), else float64';
  return [{ element, name, detail: `${summary} → ${result}; every value is kept exactly` }];
}

/** Duplicate obs ids as one problem: how many, and the first ten. */
export function duplicateIdsProblem(dupes: { id: string; where: string }[]): string {
  const n = dupes.length;
  const shown = dupes.slice(0, 10).map((d) => `"${d.id}" ${d.where}`).join('; ');
  return `${n} obs id${n === 1 ? ' is' : 's are'} not unique: ${shown}${n > 10 ? `; … and ${n - 10} more` : ''}. Use --make-unique to suffix them.`;
}

interface Duplicate {
  id: string;
  where: string[];
}

function resolveObsIds(datasets: DatasetInfo[], existing: ReadonlySet<string>, makeUnique: boolean): { ids: string[]; duplicates: Duplicate[] } {
  const seen = new Map<string, string>(); // id → first place it was seen
  const dupes = new Map<string, Duplicate>();
  const ids: string[] = [];
  for (const [d, ds] of datasets.entries()) {
    for (const id of ds.obs.index) {
      let out = id;
      const clash = existing.has(id) ? 'the store' : seen.get(id);
      if (clash !== undefined) {
        if (makeUnique) {
          // Suffix with the dataset position, then a counter if even that is taken.
          out = `${id}-${d}`;
          for (let k = 1; existing.has(out) || seen.has(out); k++) out = `${id}-${d}-${k}`;
        } else {
          const dup = dupes.get(id) ?? { id, where: [clash] };
          dup.where.push(ds.label);
          dupes.set(id, dup);
        }
      }
      if (!seen.has(out)) seen.set(out, ds.label);
      ids.push(out);
    }
  }
  return { ids, duplicates: [...dupes.values()] };
}

function intersectNames(lists: string[][], element: 'layers', labels: string[], kept: PlanEntry[], dropped: PlanEntry[]): string[] {
  const all = new Set(lists.flat());
  const out: string[] = [];
  for (const name of all) {
    const missing = labels.filter((_, i) => !lists[i]!.includes(name));
    if (missing.length) dropped.push({ element, name, detail: `missing in ${missing.join(', ')}` });
    else {
      out.push(name);
      kept.push({ element, name });
    }
  }
  return out;
}

function carryDense(maps: Map<string, number[]>[], element: 'obsm' | 'varm' | 'raw.varm', labels: string[], kept: PlanEntry[], dropped: PlanEntry[]): { name: string; width: number }[] {
  const names = new Set(maps.flatMap((m) => [...m.keys()]));
  const out: { name: string; width: number }[] = [];
  for (const name of names) {
    const missing = labels.filter((_, i) => !maps[i]!.has(name));
    if (missing.length) {
      dropped.push({ element, name, detail: `missing in ${missing.join(', ')}` });
      continue;
    }
    const shapes = maps.map((m) => m.get(name)!);
    const notDense = labels.filter((_, i) => shapes[i]!.length === 0);
    if (notDense.length) {
      dropped.push({ element, name, detail: `only dense numeric arrays are carried; it is sparse, a data frame or text in ${notDense.join(', ')}` });
      continue;
    }
    const widths = new Set(shapes.map((s) => (s.length === 2 ? s[1] : -1)));
    if (widths.size !== 1 || widths.has(-1)) {
      dropped.push({ element, name, detail: `widths differ or it is not a 2-d array (${shapes.map((s, i) => `${labels[i]}: ${s.join('×')}`).join(', ')})` });
      continue;
    }
    out.push({ name, width: [...widths][0]! });
    kept.push({ element, name, detail: `width ${[...widths][0]}` });
  }
  return out;
}

/** The JSON printed by `cellar concat --dry-run --json`. */
export function planSummary(plan: ConcatPlan): { kept: PlanEntry[]; dropped: PlanEntry[]; converted: PlanEntry[]; added: PlanEntry[]; problems: string[]; n_obs: number; n_vars: number } {
  return { kept: plan.kept, dropped: plan.dropped, converted: plan.converted, added: plan.added, problems: plan.problems, n_obs: plan.nObs, n_vars: plan.varIds.ids.length };
}
