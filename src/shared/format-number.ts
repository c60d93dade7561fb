// The one way Cellar writes numbers for people: counts, byte sizes and durations read the
// same in the app, the CLI and `cellar serve`. No Node, DOM or Electron imports.

// Made on first need: starting ICU for a number format costs 30–50 ms, which a command that
// prints a few counts should not pay; exact integers are grouped without it.
let count: Intl.NumberFormat | null = null;

/** A whole number with thousands separators: 1234567 → "1,234,567"; missing → "—". */
export function formatCount(n: number | bigint | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (typeof n === 'number' && !Number.isFinite(n)) return '—';
  if (typeof n === 'bigint') return groupThousands(n.toString());
  // Rounds halves away from zero, as Intl's default does.
  const whole = Math.sign(n) * Math.round(Math.abs(n));
  if (Number.isSafeInteger(whole) && !Object.is(whole, -0)) return groupThousands(String(whole));
  count ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  return count.format(n);
}

/** "-1234567" → "-1,234,567". */
function groupThousands(digits: string): string {
  const sign = digits.startsWith('-') ? '-' : '';
  const body = sign ? digits.slice(1) : digits;
  let out = body.slice(0, ((body.length - 1) % 3) + 1);
  for (let i = out.length; i < body.length; i += 3) out += `,${body.slice(i, i + 3)}`;
  return sign + out;
}

const BINARY_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * A size in binary units, named as such (1 KiB = 1,024 bytes): "512 B", "2.0 KiB", "1.5 MiB",
 * "120 GiB". One decimal below 100 units, whole numbers above; missing → "—".
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  if (value < 1024) return `${sign}${Math.round(value)} B`;
  let unit = -1;
  while (value >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // 1023.96 KiB would round to "1024 KiB": show it as the next unit instead.
  if (Math.round(value) >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${sign}${value < 100 ? value.toFixed(1) : Math.round(value)} ${BINARY_UNITS[unit]}`;
}

/**
 * Part of a size, both in the unit of the whole so they compare at a glance: "1.2 of 3.4 GiB",
 * "512 of 900 KiB", "0 of 20 B".
 */
export function formatBytesOf(done: number, total: number): string {
  const whole = formatBytes(total);
  const unit = whole.split(' ')[1] ?? 'B';
  if (unit === 'B') return `${Math.round(done)} of ${whole}`;
  const scale = 1024 ** (BINARY_UNITS.indexOf(unit) + 1);
  const value = done / scale;
  const totalValue = total / scale;
  return `${totalValue < 100 ? value.toFixed(1) : Math.round(value)} of ${whole}`;
}

/**
 * A duration in milliseconds: "850 ms", "4.2 s", "120 s", "3 min 5 s", "2 h 4 min".
 * Whole seconds up to three minutes, because limits like "120 s" are set in seconds.
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 10) return `${Number(seconds.toFixed(1))} s`;
  if (seconds < 180) return `${Math.round(seconds)} s`;
  const totalSeconds = Math.round(seconds);
  if (totalSeconds < 3600) {
    const rest = totalSeconds % 60;
    return `${Math.floor(totalSeconds / 60)} min${rest ? ` ${rest} s` : ''}`;
  }
  const totalMinutes = Math.round(seconds / 60);
  const rest = totalMinutes % 60;
  return `${Math.floor(totalMinutes / 60)} h${rest ? ` ${rest} min` : ''}`;
}

/** The time between two ISO instants, as formatDuration writes it. */
export function formatElapsed(fromIso: string, toIso: string): string {
  return formatDuration(new Date(toIso).getTime() - new Date(fromIso).getTime());
}

/** A measured value in a table: integers whole, others to six significant digits, NaN as such. */
export function formatDecimal(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}
