// The two groups of cells a differential expression compares, from obs filters (a group and,
// optionally, a reference; otherwise the rest) or from values of one obs column. Every way the
// request can name no cells, the same cells twice or a value that is not there is refused with
// a sentence that says which, before anything is read from X.
import { CellarError } from '../../../shared/errors';
import type { FrameReader } from '../store/store-reader';
import { selectRows } from '../store/query';
import { stringAt } from '../columns/conversions';

export interface GroupRequest {
  /** Group given by an obs filter ... */
  obs?: string;
  /** ... against the cells of this filter (default: every other cell). */
  referenceObs?: string;
  /** Group given by a value of an obs column ... */
  groupby?: string;
  group?: string;
  /** ... against the cells of this value (default: every other cell). */
  reference?: string;
  /** Group given by cells' soma_joinids (a selection in the app) ... */
  obsJoinids?: readonly number[];
  /** ... against these cells (default: every other cell). */
  referenceJoinids?: readonly number[];
  /** How the result names the selected sides (default: "N selected cells"). */
  groupName?: string;
  referenceName?: string;
}

export interface CellGroups {
  /** Per cell: 1 in the group, 2 in the reference, 0 in neither. */
  labels: Int8Array;
  nIn: number;
  nOut: number;
  /** How the user would name each side, e.g. `cell_type == "B"` and `rest`. */
  groupLabel: string;
  referenceLabel: string;
}

// How the flags are combined is a usage error (exit 2); what the store does not hold is a
// user error (exit 1), as for `cellar query`.
const usage = (message: string) => new CellarError('usage', message);
const badGroups = (message: string) => new CellarError('bad_groups', message);

export function resolveCellGroups(obs: FrameReader, request: GroupRequest): CellGroups {
  if (request.obsJoinids !== undefined) return groupsFromJoinids(obs.nRows, request);
  if (request.referenceJoinids !== undefined) throw usage('A reference given as cells needs the group given as cells too.');
  const byFilter = request.obs !== undefined;
  const byColumn = request.groupby !== undefined;
  if (byFilter === byColumn) throw usage('Name the group either with --obs FILTER or with --groupby COLUMN --group VALUE, not both.');
  if (byFilter && (request.group !== undefined || request.reference !== undefined)) throw usage('--group and --reference go with --groupby; with --obs, give the reference as --reference-obs FILTER.');
  if (byColumn && request.referenceObs !== undefined) throw usage('--reference-obs goes with --obs; with --groupby, give the reference as --reference VALUE.');
  const labels = new Int8Array(obs.nRows);
  let groupLabel: string;
  let referenceLabel: string;
  if (byFilter) {
    if (!request.obs!.trim()) throw usage('--obs is empty; give a filter such as cell_type == "B cell".');
    groupLabel = request.obs!.trim();
    for (const row of filterRows(obs, request.obs!, '--obs')) labels[row] = 1;
    if (request.referenceObs !== undefined) {
      if (!request.referenceObs.trim()) throw usage('--reference-obs is empty; give a filter, or leave it out to compare with every other cell.');
      referenceLabel = request.referenceObs.trim();
      if (referenceLabel === groupLabel) throw usage(`--obs and --reference-obs are the same filter (${groupLabel}); compare two different groups of cells.`);
      markReference(labels, filterRows(obs, request.referenceObs, '--reference-obs'), groupLabel, referenceLabel);
    } else referenceLabel = 'rest';
  } else {
    const name = request.groupby!;
    const column = obs.column(name);
    if (!column) throw new CellarError('unknown_column', `There is no obs column "${name}".${suggestion(name, obs.columnNames)} The columns are ${obs.columnNames.join(', ')}.`);
    if (request.group === undefined) throw usage(`--groupby ${name} needs --group VALUE: the value of ${name} whose cells form the group.`);
    const values = new Map<string, number>();
    const cellValues: (string | null)[] = new Array(obs.nRows);
    for (let i = 0; i < obs.nRows; i++) {
      const v = stringAt(column, i);
      cellValues[i] = v;
      if (v !== null) values.set(v, (values.get(v) ?? 0) + 1);
    }
    const declared = obs.schema(name)?.categories?.values.map(String) ?? [];
    // Categories in their declared order, other values sorted: the order a user knows them in.
    const present = declared.length ? declared.filter((v) => values.has(v)) : [...values.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const known = (value: string, flag: string) => {
      if (values.has(value)) return;
      if (declared.includes(value)) throw badGroups(`The group of ${flag} ${JSON.stringify(value)} is empty: no cell has ${name} == ${JSON.stringify(value)}.`);
      throw new CellarError('not_found', `obs column "${name}" has no value ${JSON.stringify(value)} (${flag}).${suggestion(value, present)} Its values are ${listValues(present)}.`);
    };
    known(request.group, '--group');
    if (request.reference !== undefined) {
      known(request.reference, '--reference');
      if (request.reference === request.group) throw usage(`--group and --reference are both ${JSON.stringify(request.group)}; compare two different values of ${name}.`);
    }
    for (let i = 0; i < obs.nRows; i++) {
      const v = cellValues[i];
      if (v === request.group) labels[i] = 1;
      else if (request.reference === undefined || v === request.reference) labels[i] = 2;
    }
    groupLabel = `${name} == ${JSON.stringify(request.group)}`;
    referenceLabel = request.reference === undefined ? 'rest' : `${name} == ${JSON.stringify(request.reference)}`;
  }
  let nIn = 0;
  if (referenceLabel === 'rest') for (let i = 0; i < labels.length; i++) if (labels[i] === 0) labels[i] = 2;
  let nOut = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) nIn++;
    else if (labels[i] === 2) nOut++;
  }
  if (nIn === 0) throw badGroups(`The group (${groupLabel}) is empty: no cell of the store matches it.`);
  if (nOut === 0) throw badGroups(referenceLabel === 'rest' ? `Every cell is in the group (${groupLabel}), so the rest is empty: there is nothing to compare with.` : `The reference (${referenceLabel}) is empty: no cell of the store matches it.`);
  return { labels, nIn, nOut, groupLabel, referenceLabel };
}

/** Cells named by joinid (the store's rows: joinid i is row i); the reference defaults to every other cell. */
function groupsFromJoinids(nRows: number, request: GroupRequest): CellGroups {
  const byOtherMeans = request.obs !== undefined || request.groupby !== undefined || request.referenceObs !== undefined || request.group !== undefined || request.reference !== undefined;
  if (byOtherMeans) throw usage('Name the group either by its cells or by a filter or column value, not both.');
  const labels = new Int8Array(nRows);
  const mark = (joinids: readonly number[], label: 1 | 2, side: string) => {
    let count = 0;
    for (const joinid of joinids) {
      if (!Number.isInteger(joinid) || joinid < 0 || joinid >= nRows) throw usage(`The ${side} names cell ${joinid}, but the store has cells 0 to ${nRows - 1}.`);
      if (labels[joinid] === label) continue;
      if (labels[joinid] !== 0) throw usage(`Cell ${joinid} is in both the group and the reference; the two groups must not overlap.`);
      labels[joinid] = label;
      count++;
    }
    return count;
  };
  const nIn = mark(request.obsJoinids!, 1, 'group');
  if (nIn === 0) throw usage('The group is empty: select some cells first.');
  const groupLabel = request.groupName?.trim() || `${nIn} selected cells`;
  let nOut: number;
  let referenceLabel: string;
  if (request.referenceJoinids !== undefined) {
    nOut = mark(request.referenceJoinids, 2, 'reference');
    if (nOut === 0) throw usage('The reference is empty: select its cells first, or compare with the rest.');
    referenceLabel = request.referenceName?.trim() || `${nOut} other selected cells`;
  } else {
    nOut = 0;
    for (let i = 0; i < nRows; i++) {
      if (labels[i] !== 0) continue;
      labels[i] = 2;
      nOut++;
    }
    if (nOut === 0) throw usage('Every cell is selected, so the rest is empty: there is nothing to compare with.');
    referenceLabel = request.referenceName?.trim() || 'rest';
  }
  return { labels, nIn, nOut, groupLabel, referenceLabel };
}

function filterRows(obs: FrameReader, filter: string, flag: string): Uint32Array {
  try {
    return selectRows(obs, filter);
  } catch (err) {
    // The message says which of the two filters it is about.
    if (err instanceof CellarError && (err.code === 'bad_filter' || err.code === 'unknown_column')) throw new CellarError(err.code, `${flag}: ${err.message}`, err.problems);
    throw err;
  }
}

function markReference(labels: Int8Array, rows: Uint32Array, groupLabel: string, referenceLabel: string): void {
  let overlap = 0;
  for (const row of rows) {
    if (labels[row] === 1) overlap++;
    else labels[row] = 2;
  }
  if (overlap === 0) return;
  if (overlap === rows.length && rows.length === labels.reduce((n, l) => n + (l === 1 ? 1 : 0), 0)) {
    throw badGroups(`--obs (${groupLabel}) and --reference-obs (${referenceLabel}) select the same ${overlap} cells; compare two different groups.`);
  }
  throw badGroups(`${overlap} cell(s) match both --obs (${groupLabel}) and --reference-obs (${referenceLabel}); the two groups must not overlap.`);
}

function listValues(values: string[]): string {
  const shown = values.slice(0, 20).map((v) => JSON.stringify(v));
  return values.length > 20 ? `${shown.join(', ')} and ${values.length - 20} more` : shown.join(', ');
}

/** ' Did you mean "X"?' for the closest candidate when it is close enough to be a typo, else "". */
export function suggestion(wanted: string, candidates: string[]): string {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(wanted.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  // A typo changes a few characters, never the whole word ("E" is not a typo of "D").
  const close = bestDistance <= Math.max(1, Math.floor(wanted.length / 3)) && bestDistance < wanted.length;
  return best !== null && close ? ` Did you mean ${JSON.stringify(best)}?` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}
