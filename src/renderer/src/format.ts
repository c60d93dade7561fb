// How dates and table cells read on screen. Counts, sizes and durations come from the one
// formatter in src/shared, so the app writes them as the CLI does.
import { formatCount, formatDecimal } from '../../shared/format-number';

export { formatBytes, formatCount, formatDuration, formatElapsed } from '../../shared/format-number';

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** A table cell's text: numbers trimmed, NA shown as such. */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return 'NA';
  if (typeof value === 'number') return formatDecimal(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return String(value);
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${formatCount(n)} ${n === 1 ? word : many}`;
}
