// Natural order for labels people read ("cluster 2" before "cluster 10"), and the order of
// table cells (numbers by value, text naturally, missing values last). No Node or DOM imports.

const CHUNKS = /(\d+)|(\D+)/g;

function chunks(text: string): string[] {
  return text.match(CHUNKS) ?? [];
}

function isDigits(chunk: string): boolean {
  const c = chunk.charCodeAt(0);
  return c >= 48 && c <= 57;
}

/** Compares digit runs by their value, whatever their length (barcodes overflow doubles). */
function compareDigitRuns(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length - y.length;
  if (x !== y) return x < y ? -1 : 1;
  // Same value: fewer leading zeros first, so "7" < "07" and the order is total.
  return a.length - b.length;
}

const TEXT = new Intl.Collator('en', { sensitivity: 'base' });

/** "cluster 2" < "cluster 10" < "Cluster 11"; case only breaks ties. */
export function compareNatural(a: string, b: string): number {
  if (a === b) return 0;
  const ca = chunks(a);
  const cb = chunks(b);
  const n = Math.min(ca.length, cb.length);
  for (let i = 0; i < n; i++) {
    const x = ca[i]!;
    const y = cb[i]!;
    const bothDigits = isDigits(x) && isDigits(y);
    const order = bothDigits ? compareDigitRuns(x, y) : TEXT.compare(x, y);
    if (order !== 0) return order;
  }
  if (ca.length !== cb.length) return ca.length - cb.length;
  return a < b ? -1 : a > b ? 1 : 0;
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
 * equal values keep their original order.
 */
export function sortOrder(values: ArrayLike<CellValue>, descending = false): Uint32Array {
  const present: number[] = [];
  const missing: number[] = [];
  for (let i = 0; i < values.length; i++) (isMissing(values[i]) ? missing : present).push(i);
  const sign = descending ? -1 : 1;
  present.sort((i, j) => sign * compareCells(values[i], values[j]) || i - j);
  const order = new Uint32Array(values.length);
  order.set(present);
  order.set(missing, present.length);
  return order;
}
