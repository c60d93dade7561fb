// Natural order for labels people read ("cluster 2" before "cluster 10"), and the order of
// table cells (numbers by value, text naturally, missing values last). No Node or DOM imports.

/**
 * A string whose plain code-unit order is the natural order of `text`: each digit run becomes
 * its length then its digits (so 2 < 10 and barcodes never overflow), each text run its
 * lower-case form; what breaks ties (leading zeros, case) follows the end marker. Built once per
 * label, so sorting many labels never re-parses them.
 */
export function naturalSortKey(text: string): string {
  const parts: string[] = [];
  let ties = '';
  let i = 0;
  while (i < text.length) {
    const start = i;
    const digits = isDigit(text.charCodeAt(i));
    while (i < text.length && isDigit(text.charCodeAt(i)) === digits) i++;
    if (digits) {
      let first = start;
      while (first < i - 1 && text.charCodeAt(first) === 48) first++;
      parts.push('\u0001', String.fromCharCode(i - first + 1), text.slice(first, i));
      ties += String.fromCharCode(i - start + 1);
    } else parts.push('\u0002', text.slice(start, i).toLowerCase());
  }
  parts.push('\u0000', ties, '\u0000', text);
  return parts.join('');
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** "cluster 2" < "cluster 10" < "Cluster 11"; case only breaks ties. */
export function compareNatural(a: string, b: string): number {
  if (a === b) return 0;
  const x = naturalSortKey(a);
  const y = naturalSortKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A cell of a table: what the store's frames and the renderer's Arrow rows hold. */
export type CellValue = string | number | bigint | boolean | null | undefined;

/** True for values shown as NA: null, undefined and NaN. */
export function isMissing(value: CellValue): boolean {
  return value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));
}

function rank(value: CellValue): number {
  return typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' ? 0 : 1;
}

/**
 * Ascending order of two cells: numbers (and booleans) by value before text, text naturally.
 * Missing values are not ordered here: sortOrder puts them last in both directions.
 */
export function compareCells(a: CellValue, b: CellValue): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) {
    // Two int64 values compare exactly; a mix compares as doubles.
    const exact = typeof a === 'bigint' && typeof b === 'bigint';
    const x = exact ? a : Number(a);
    const y = exact ? b : Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return compareNatural(String(a), String(b));
}

/**
 * The row order that sorts `values` ascending or descending, missing values last either way;
 * equal values keep their original order. Text is ranked once per distinct value, so a column
 * of 200,000 labels sorts in about the time its distinct labels take.
 */
export function sortOrder(values: ArrayLike<CellValue>, descending = false): Uint32Array {
  const n = values.length;
  const numbers: number[] = [];
  const texts: number[] = [];
  const missing: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (isMissing(v)) missing.push(i);
    else (rank(v) === 0 ? numbers : texts).push(i);
  }
  const sign = descending ? -1 : 1;
  numbers.sort((i, j) => sign * compareCells(values[i], values[j]) || i - j);

  // Each distinct label is keyed and ranked once; rows then sort by their label's rank.
  const slotOf = new Map<string, number>();
  const slots = new Int32Array(texts.length);
  texts.forEach((row, t) => {
    const text = String(values[row]);
    let slot = slotOf.get(text);
    if (slot === undefined) slotOf.set(text, (slot = slotOf.size));
    slots[t] = slot;
  });
  const keys = Array.from(slotOf.keys(), naturalSortKey);
  const bySlotKey = Array.from(keys, (_, slot) => slot).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const rankOfSlot = new Float64Array(keys.length);
  bySlotKey.forEach((slot, r) => (rankOfSlot[slot] = descending ? keys.length - 1 - r : r));
  // rank × n + row sorts by rank, then by row: a plain numeric sort of one typed array.
  const keyed = Float64Array.from(texts, (row, t) => rankOfSlot[slots[t]!]! * n + row).sort();
  const sortedTexts = Array.from(keyed, (k) => k % n);

  const order = new Uint32Array(n);
  const [first, second] = descending ? [sortedTexts, numbers] : [numbers, sortedTexts];
  order.set(first);
  order.set(second, first.length);
  order.set(missing, first.length + second.length);
  return order;
}
