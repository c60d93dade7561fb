// The concatenation plan (SPEC §4): what is kept, dropped, converted and added
// when an ordered list of datasets becomes one store. Computed from metadata only,
// shown to the user before anything is written.
import type { DroppedPart } from '../formats/source';
import type { DataFrame } from '../columns/column-model';
import type { H5adFile } from '../formats/h5ad/types';
import { distinctStrings } from '../columns/conversions';
import { fieldOf, unifyFields, type FieldSchema } from '../columns/field-schema';
import { detectSymbolColumn, unversionedId } from '../store/genes';
import type { GeneNaming } from '../store/format/manifest';
import { formatCount } from '../../../shared/format-number';

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
  genes: GenePlan;
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
  /** How var ids of different datasets are matched (default exact). */
  matchGenes?: GeneNaming['match'];
  /** Genes of every dataset (outer, the default) or only those all of them measured (inner), as in anndata.concat. */
  join?: GeneNaming['join'];
  /** The var column holding gene symbols (default: detected by name). */
  symbolColumn?: string;
}

/** What the plan says about genes: how they were matched, merged, and which datasets lack which. */
export interface GenePlan {
  naming: GeneNaming;
  /** Ids that differ only in their Ensembl version, merged under the id first seen. */
  merged: { count: number; examples: { id: string; kept: string; dataset: string }[] };
  /** Per dataset: genes of the store it did not measure (outer) or genes it had that were left out (inner). */
  missing: { dataset: string; count: number; examples: string[] }[];
  /** Whether the version records which dataset measured which gene. */
  recordPresence: boolean;
}

const EXAMPLES = 5;

export function planConcatenation(datasets: DatasetInfo[], options: PlanOptions = {}): ConcatPlan {
  const kept: PlanEntry[] = [];
  const dropped: PlanEntry[] = datasets.flatMap((d) => d.formatDropped ?? []);
  const converted: PlanEntry[] = [];
  const added: PlanEntry[] = [];
  const problems: string[] = [];
  const labels = datasets.map((d) => d.label);

  const obs = planFrame('obs', datasets.map((d) => d.obs), labels, RESERVED_OBS, { kept, dropped, converted, problems });
  const symbols = unifySymbolColumns(datasets, options.symbolColumn, { converted, problems });
  const varPlan = planFrame('var', symbols.frames, labels, RESERVED_VAR, { kept, dropped, converted, problems });
  restoreSourceNames(varPlan, symbols.renamed);
  // A symbol column some dataset lacks altogether is dropped with the other unshared columns.
  const symbolColumn = symbols.column !== null && varPlan.fields.some((f) => f.name === symbols.column) ? symbols.column : null;
  const naming: GeneNaming = { symbolColumn, match: options.matchGenes ?? 'exact', join: options.join ?? 'outer' };
  const matched = matchVarIds(datasets.map((d) => d.var.index), labels, naming);
  problems.push(...matched.problems);
  const varIds = matched.ids;
  const genes: GenePlan = { naming, merged: matched.merged, missing: matched.missing, recordPresence: true };
  describeGenes(genes, varIds.ids.length, { kept, dropped, converted });

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
    genes,
    kept,
    dropped,
    converted,
    added,
    problems,
  };
}

/**
 * One store column for gene symbols, whatever each dataset calls it: the chosen (or first
 * detected) name, filled from each dataset's own symbol column. Returns the var frames with
 * those columns renamed, and what was renamed (so values are still read under the file's name).
 */
export function unifySymbolColumns(datasets: Pick<DatasetInfo, 'label' | 'var'>[], requested: string | undefined, lists: Pick<PlanLists, 'converted' | 'problems'>, storeColumn?: string | null): { column: string | null; frames: DataFrame[]; renamed: Map<string, string>[] } {
  const own = datasets.map((d) => {
    const names = d.var.columns.map((c) => c.name);
    if (requested !== undefined && names.includes(requested)) return requested;
    if (storeColumn && names.includes(storeColumn)) return storeColumn;
    return detectSymbolColumn(names);
  });
  let column: string | null = storeColumn !== undefined ? storeColumn : (requested ?? own.find((c) => c !== null) ?? null);
  if (requested !== undefined && !datasets.some((d) => d.var.columns.some((c) => c.name === requested))) {
    const listed = [...new Set(datasets.flatMap((d) => d.var.columns.map((c) => c.name)))].join(', ') || 'none';
    lists.problems.push(`--symbol-column ${requested}: no dataset has a var column of that name (var columns: ${listed}).`);
    column = null;
  }
  const renamed: Map<string, string>[] = datasets.map(() => new Map());
  const frames = datasets.map((d, i) => {
    const from = own[i];
    if (!column || !from || from === column || d.var.columns.some((c) => c.name === column)) return d.var;
    renamed[i]!.set(column, from);
    lists.converted.push({ element: 'var', name: column, detail: `gene symbols taken from "${from}" in ${d.label}` });
    return { ...d.var, columns: d.var.columns.map((c) => (c.name === from ? { ...c, name: column } : c)) };
  });
  return { column, frames, renamed };
}

/** After planning renamed frames: each dataset's values are still read under its own column name. */
export function restoreSourceNames(fp: FramePlan, renamed: Map<string, string>[]): void {
  fp.sources.forEach((sources, d) => {
    for (const source of sources) {
      const original = renamed[d]?.get(source.sourceName);
      if (original) source.sourceName = original;
    }
  });
}

/**
 * Matches var ids across datasets (exactly, or Ensembl ids without their version) and keeps the
 * union (outer) or the intersection (inner). The store keeps the id as the first dataset that
 * has the gene spells it. Stripping versions must not make two genes of one dataset one.
 */
export function matchVarIds(indexes: string[][], labels: string[], naming: Pick<GeneNaming, 'match' | 'join'>, existing: string[] = []): { ids: IdSpace; merged: GenePlan['merged']; missing: GenePlan['missing']; problems: string[] } {
  const keyOf = naming.match === 'unversioned' ? unversionedId : (id: string) => id;
  const problems: string[] = [];
  if (naming.match === 'unversioned') {
    // The store's own ids (append) count too: merging two of them would make one gene of two.
    const sources = [...(existing.length ? [{ label: 'the store', index: existing }] : []), ...indexes.map((index, d) => ({ label: labels[d]!, index }))];
    for (const { label, index } of sources) {
      const clashes = versionClashes(index);
      const n = clashes.length;
      if (n) problems.push(`--match-genes unversioned would merge ${n} pair${n === 1 ? '' : 's'} of genes within ${label}: ${clashes.slice(0, EXAMPLES).join('; ')}${n > EXAMPLES ? `; … and ${n - EXAMPLES} more` : ''}. Those are different genes there; use --match-genes exact.`);
    }
  }
  const merged: GenePlan['merged'] = { count: 0, examples: [] };
  const { ids, localToGlobal, firstDataset, firstLocal } = unionIds(indexes, existing, keyOf, (id, kept, d) => {
    merged.count++;
    if (merged.examples.length < EXAMPLES) merged.examples.push({ id, kept, dataset: labels[d]! });
  });
  // Who measured what: a count per gene over the datasets (existing genes count as the store's).
  const measuredBy = new Int32Array(ids.length);
  for (const map of localToGlobal) for (const g of map) measuredBy[g]!++;
  const missing: GenePlan['missing'] = [];
  let space: IdSpace = { ids, localToGlobal, firstDataset, firstLocal };
  if (naming.join === 'inner' && !existing.length) {
    const everywhere = (g: number) => measuredBy[g] === indexes.length;
    const keptIds: number[] = [];
    for (let g = 0; g < ids.length; g++) if (everywhere(g)) keptIds.push(g);
    const newPosition = new Int32Array(ids.length).fill(-1);
    keptIds.forEach((g, k) => (newPosition[g] = k));
    for (const [d, map] of localToGlobal.entries()) {
      const left = [...map].filter((g) => !everywhere(g)).map((g) => ids[g]!);
      if (left.length) missing.push({ dataset: labels[d]!, count: left.length, examples: left.slice(0, EXAMPLES) });
    }
    space = {
      ids: keptIds.map((g) => ids[g]!),
      localToGlobal: localToGlobal.map((map) => map.map((g) => newPosition[g]!)),
      firstDataset: Int32Array.from(keptIds, (g) => firstDataset[g]!),
      firstLocal: Int32Array.from(keptIds, (g) => firstLocal[g]!),
    };
  } else {
    for (const [d, map] of localToGlobal.entries()) {
      const has = new Uint8Array(ids.length);
      for (const g of map) has[g] = 1;
      const lacking: string[] = [];
      let count = 0;
      for (let g = 0; g < ids.length; g++) {
        if (has[g]) continue;
        count++;
        if (lacking.length < EXAMPLES) lacking.push(ids[g]!);
      }
      if (count) missing.push({ dataset: labels[d]!, count, examples: lacking });
    }
  }
  return { ids: space, merged, missing, problems };
}

/** Pairs of ids of one dataset that are the same once Ensembl versions are stripped ("A and B"). */
function versionClashes(index: readonly string[]): string[] {
  const seen = new Map<string, string>();
  const clashes: string[] = [];
  for (const id of index) {
    const key = unversionedId(id);
    const before = seen.get(key);
    if (before !== undefined && before !== id) clashes.push(`${before} and ${id}`);
    else seen.set(key, id);
  }
  return clashes;
}

/** The plan's lines about genes (kept: the naming; converted: merges; dropped/converted: missing genes). */
export function describeGenes(genes: GenePlan, nGenes: number, lists: Pick<PlanLists, 'kept' | 'dropped' | 'converted'>, store = false): void {
  const { naming, merged, missing } = genes;
  // An append always extends var with the files' new genes (older cells read "not measured" there).
  const joinNote = store ? 'the store\'s genes and the files\' new ones' : naming.join === 'outer' ? 'outer join (the default): every gene of every dataset' : 'inner join: only genes every dataset measured';
  lists.kept.push({ element: 'var', name: 'genes', detail: `${formatCount(nGenes)} gene${nGenes === 1 ? '' : 's'}, ${joinNote}; ids matched ${naming.match === 'exact' ? 'exactly' : 'without their Ensembl version'}; symbols: ${naming.symbolColumn ? `var column ${naming.symbolColumn}` : 'none (no symbol column found)'}` });
  if (merged.count) {
    const shown = merged.examples.map((e) => `${e.id} (${e.dataset}) → ${e.kept}`).join(', ');
    lists.converted.push({ element: 'var', name: 'var_id', detail: `${formatCount(merged.count)} gene id${merged.count === 1 ? '' : 's'} merged with the same gene under another version, keeping the id first seen: ${shown}${merged.count > merged.examples.length ? ', …' : ''}` });
  }
  for (const m of missing) {
    const shown = `${m.examples.join(', ')}${m.count > m.examples.length ? ', …' : ''}`;
    if (naming.join === 'inner' && !store) lists.dropped.push({ element: 'var', name: 'genes', detail: `${formatCount(m.count)} gene${m.count === 1 ? '' : 's'} of ${m.dataset} not measured in every dataset (inner join): ${shown}` });
    else lists.converted.push({ element: 'var', name: 'genes', detail: `${formatCount(m.count)} gene${m.count === 1 ? '' : 's'} not measured in ${m.dataset}: ${shown} (recorded in the feature presence table: its cells read "not measured" there, not 0)` });
  }
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

/**
 * The union of several datasets' ids, in first-seen order after the ids a store already has:
 * each dataset's positions mapped to the union's, and where each new id was first seen. Ids
 * with the same key (the id itself, or an Ensembl id without its version) are one; a later
 * spelling of a kept id is reported through onMerge.
 */
export function unionIds(indexes: string[][], existing: string[] = [], keyOf: (id: string) => string = (id) => id, onMerge?: (id: string, kept: string, dataset: number) => void): IdSpace {
  const position = new Map<string, number>();
  const ids: string[] = [...existing];
  const firstDataset: number[] = new Array<number>(existing.length).fill(-1);
  const firstLocal: number[] = new Array<number>(existing.length).fill(-1);
  existing.forEach((id, g) => {
    if (!position.has(keyOf(id))) position.set(keyOf(id), g);
  });
  const localToGlobal = indexes.map((index, d) => {
    const map = new Int32Array(index.length);
    for (let i = 0; i < index.length; i++) {
      const id = index[i]!;
      const key = keyOf(id);
      let g = position.get(key);
      if (g === undefined) {
        g = ids.length;
        position.set(key, g);
        ids.push(id);
        firstDataset.push(d);
        firstLocal.push(i);
      } else if (onMerge && ids[g] !== id) onMerge(id, ids[g]!, d);
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
export function planSummary(plan: ConcatPlan): { kept: PlanEntry[]; dropped: PlanEntry[]; converted: PlanEntry[]; added: PlanEntry[]; problems: string[]; n_obs: number; n_vars: number; genes: GenesSummary } {
  return { kept: plan.kept, dropped: plan.dropped, converted: plan.converted, added: plan.added, problems: plan.problems, n_obs: plan.nObs, n_vars: plan.varIds.ids.length, genes: genesSummary(plan.genes) };
}

export interface GenesSummary {
  match: GeneNaming['match'];
  join: GeneNaming['join'];
  symbol_column: string | null;
  merged: GenePlan['merged'];
  missing: GenePlan['missing'];
}

export function genesSummary(genes: GenePlan): GenesSummary {
  return { match: genes.naming.match, join: genes.naming.join, symbol_column: genes.naming.symbolColumn, merged: genes.merged, missing: genes.missing };
}
