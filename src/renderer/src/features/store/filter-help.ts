// Help for the value-filter boxes: a placeholder built from the store's own columns, value
// completions from a column's categories, and "did you mean" for a value no category has.
import type { StoreColumn } from '../../../../shared/contract';
import { compareNatural } from '../../../../shared/natural-sort';

/** Columns the store adds itself: not what a user filters by first. */
export const INTERNAL_COLUMNS = new Set(['soma_joinid', 'cellar_run_uid']);

const NAME = String.raw`(?:attr\(\s*"([^"]+)"\s*\)|([A-Za-z_][\w.]*))`;

function quoteName(name: string): string {
  return /^[A-Za-z_][\w.]*$/.test(name) ? name : `attr("${name}")`;
}

function quoteValue(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function categoriesOf(column: StoreColumn | undefined): string[] {
  return (column?.categories ?? []).map(String).sort(compareNatural);
}

/** A short number for an example: two significant digits ("n_counts > 95"). */
function roundForExample(value: number): string {
  return String(Number(value.toPrecision(2)));
}

/**
 * An example filter from this store's columns: its first categorical column compared with its
 * first category, and a numeric column compared with its median when one is known.
 */
export function exampleFilter(columns: StoreColumn[], numeric?: { name: string; median: number | null } | null, fallbackIds?: string[]): string | null {
  const categorical = columns.find((c) => !INTERNAL_COLUMNS.has(c.name) && c.name !== 'dataset' && categoriesOf(c).length > 0);
  const parts: string[] = [];
  if (categorical) parts.push(`${quoteName(categorical.name)} == ${quoteValue(categoriesOf(categorical)[0]!)}`);
  if (numeric && numeric.median !== null) parts.push(`${quoteName(numeric.name)} > ${roundForExample(numeric.median)}`);
  if (parts.length === 0 && fallbackIds && fallbackIds.length > 0) return `${quoteName(fallbackIds[0]!)} in [${fallbackIds.slice(1, 3).map(quoteValue).join(', ')}]`;
  return parts.length ? parts.join(' and ') : null;
}

/** The first numeric column a user would filter by (not the store's own bookkeeping). */
export function firstNumericColumn(columns: StoreColumn[]): StoreColumn | undefined {
  return columns.find((c) => !INTERNAL_COLUMNS.has(c.name) && c.name !== 'dataset' && !c.categories && /^(u?int|float|nullable-int)/.test(c.dtype));
}

export interface Completion {
  column: string;
  /** Where the value being typed starts (after its opening quote). */
  from: number;
  partial: string;
  values: string[];
}

const OPEN_VALUE = new RegExp(String.raw`${NAME}\s*(?:==|!=|(?:not\s+)?in\s*\[[^\]]*?)\s*(["'])([^"']*)$`);

/** Categories that complete the quoted value being typed before the caret, if any. */
export function completeValue(text: string, caret: number, columns: StoreColumn[], limit = 8): Completion | null {
  const before = text.slice(0, caret);
  const match = OPEN_VALUE.exec(before);
  if (!match) return null;
  const name = match[1] ?? match[2]!;
  const partial = match[4]!;
  const values = categoriesOf(columns.find((c) => c.name === name));
  if (values.length === 0) return null;
  const needle = partial.toLowerCase();
  const starts = values.filter((v) => v.toLowerCase().startsWith(needle));
  // One letter is found inside too many words: match inside only from two letters on.
  const contains = needle.length < 2 ? [] : values.filter((v) => !v.toLowerCase().startsWith(needle) && v.toLowerCase().includes(needle));
  const found = [...starts, ...contains].slice(0, limit);
  if (found.length === 0 || (found.length === 1 && found[0] === partial)) return null;
  return { column: name, from: caret - partial.length, partial, values: found };
}

/** The text with the value being completed replaced by `value` and its quote closed; the caret goes after it. */
export function applyCompletion(text: string, caret: number, completion: Completion, value: string): { text: string; caret: number } {
  const quote = text[completion.from - 1] === "'" ? "'" : '"';
  const after = text.slice(caret);
  const closing = after.startsWith(quote) ? '' : quote;
  const next = `${text.slice(0, completion.from)}${value}${closing}${after}`;
  return { text: next, caret: completion.from + value.length + 1 };
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The category a mistyped value most likely meant: same text ignoring case, a prefix, or a near spelling. */
export function closestCategory(value: string, categories: string[]): string | null {
  const lower = value.toLowerCase();
  const sameCase = categories.find((c) => c.toLowerCase() === lower);
  if (sameCase) return sameCase;
  const prefixed = categories.filter((c) => c.toLowerCase().startsWith(lower) && lower.length > 0).sort(compareNatural);
  if (prefixed.length === 1) return prefixed[0]!;
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(value.length / 3)) + 1;
  for (const c of [...categories].sort(compareNatural)) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best ?? prefixed[0] ?? null;
}

export interface ValueSuggestion {
  column: string;
  value: string;
  suggestion: string;
}

const COMPARED = new RegExp(String.raw`${NAME}\s*(==|!=|(?:not\s+)?in)\s*(\[[^\]]*\]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')`, 'g');
const LITERAL = /"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'/g;

/** Quoted values compared with a categorical column that no category of it holds, each with the likeliest category. */
export function suggestValues(filter: string, columns: StoreColumn[]): ValueSuggestion[] {
  const out: ValueSuggestion[] = [];
  for (const match of filter.matchAll(COMPARED)) {
    const name = match[1] ?? match[2]!;
    const categories = categoriesOf(columns.find((c) => c.name === name));
    if (categories.length === 0) continue;
    for (const literal of match[4]!.matchAll(LITERAL)) {
      const value = (literal[1] ?? literal[2]!).replace(/\\(.)/g, '$1');
      if (categories.includes(value)) continue;
      const suggestion = closestCategory(value, categories);
      if (suggestion) out.push({ column: name, value, suggestion });
    }
  }
  return out;
}

/** The filter with each mistyped value replaced by its suggestion. */
export function applySuggestions(filter: string, suggestions: ValueSuggestion[]): string {
  let next = filter;
  for (const s of suggestions) next = next.replace(quoteValue(s.value), quoteValue(s.suggestion)).replace(`'${s.value}'`, `'${s.suggestion}'`);
  return next;
}
