// Colour for the scatter plot: a categorical palette, a viridis-like ramp, and the
// per-point RGBA buffer the GPU reads. Pure functions on typed arrays; no DOM.

export type ScatterColors =
  | { kind: 'category'; codes: Int32Array; categories: string[] }
  | { kind: 'numeric'; values: Float32Array; min: number; max: number }
  | null;

export type Rgb = readonly [number, number, number];

/**
 * Twenty hues chosen to stay apart (CIELAB ΔE ≥ 25 for every pair) and away from the white
 * background; no grey, which means "missing".
 */
export const CATEGORY_PALETTE: readonly string[] = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#000080',
  '#ffbb78', '#637939', '#b2df8a', '#fb9a99', '#2b3d26', '#b15928', '#1e90ff', '#393b79', '#b3446c', '#008856',
];

/** Points with no category or a NaN value. */
export const MISSING_COLOR = '#c4c4c4';
/** Points when nothing colours them. */
export const PLAIN_COLOR = '#3a6ea5';

/** Viridis sampled at 0, 0.1, … 1; intermediate values are interpolated linearly. */
export const VIRIDIS_STOPS: readonly string[] = [
  '#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c', '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725',
];

export function hexToRgb(hex: string): Rgb {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

export function rgbToHex([r, g, b]: Rgb): string {
  return `#${((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1)}`;
}

/** The palette cycles past its 20 colours; negative codes are missing. */
export function categoryColor(code: number): string {
  if (!(code >= 0)) return MISSING_COLOR;
  return CATEGORY_PALETTE[code % CATEGORY_PALETTE.length]!;
}

const VIRIDIS_RGB = VIRIDIS_STOPS.map(hexToRgb);

/** t in [0, 1] (clamped) → viridis-like colour; NaN → missing grey. */
export function viridis(t: number): Rgb {
  if (Number.isNaN(t)) return hexToRgb(MISSING_COLOR);
  const clamped = Math.min(1, Math.max(0, t));
  const position = clamped * (VIRIDIS_RGB.length - 1);
  const lower = Math.min(VIRIDIS_RGB.length - 2, Math.floor(position));
  const fraction = position - lower;
  const a = VIRIDIS_RGB[lower]!;
  const b = VIRIDIS_RGB[lower + 1]!;
  const mix = (channel: 0 | 1 | 2) => Math.round(a[channel] + (b[channel] - a[channel]) * fraction);
  return [mix(0), mix(1), mix(2)];
}

/** CSS gradient for the colour bar, same stops as the points. */
export function viridisGradient(direction = 'to right'): string {
  return `linear-gradient(${direction}, ${VIRIDIS_STOPS.join(', ')})`;
}

/**
 * What the colour buffer depends on: the arrays and bounds, not the wrapping object, so a
 * caller that rebuilds `{ kind, codes, categories }` on every render does not recolour.
 */
export function colorIdentity(colors: ScatterColors): readonly [unknown, unknown, unknown] {
  if (colors === null) return [null, 0, 0];
  if (colors.kind === 'category') return [colors.codes, colors.categories.length, -1];
  return [colors.values, colors.min, colors.max];
}

const RAMP_SIZE = 256;
let rampCache: Uint8Array | null = null;

/** 256 RGB triples, so colouring a million values is a table lookup each. */
function viridisRamp(): Uint8Array {
  if (rampCache) return rampCache;
  const ramp = new Uint8Array(RAMP_SIZE * 3);
  for (let i = 0; i < RAMP_SIZE; i++) ramp.set(viridis(i / (RAMP_SIZE - 1)), i * 3);
  return (rampCache = ramp);
}

/**
 * One RGBA quadruple per point (n = number of points). Codes outside the category list,
 * NaN values and missing entries (arrays shorter than n) are grey.
 */
export function colorBuffer(colors: ScatterColors, n: number): Uint8Array {
  const rgba = new Uint8Array(n * 4);
  const [mr, mg, mb] = hexToRgb(MISSING_COLOR);
  if (colors === null) {
    const [r, g, b] = hexToRgb(PLAIN_COLOR);
    for (let i = 0, o = 0; i < n; i++, o += 4) {
      rgba[o] = r;
      rgba[o + 1] = g;
      rgba[o + 2] = b;
      rgba[o + 3] = 255;
    }
    return rgba;
  }
  if (colors.kind === 'category') {
    const palette = new Uint8Array(CATEGORY_PALETTE.length * 3);
    CATEGORY_PALETTE.forEach((hex, i) => palette.set(hexToRgb(hex), i * 3));
    const nCategories = colors.categories.length;
    const codes = colors.codes;
    for (let i = 0, o = 0; i < n; i++, o += 4) {
      const code = i < codes.length ? codes[i]! : -1;
      if (code >= 0 && code < nCategories) {
        const p = (code % CATEGORY_PALETTE.length) * 3;
        rgba[o] = palette[p]!;
        rgba[o + 1] = palette[p + 1]!;
        rgba[o + 2] = palette[p + 2]!;
      } else {
        rgba[o] = mr;
        rgba[o + 1] = mg;
        rgba[o + 2] = mb;
      }
      rgba[o + 3] = 255;
    }
    return rgba;
  }
  const ramp = viridisRamp();
  const { values, min, max } = colors;
  const span = max - min;
  // A constant column sits in the middle of the ramp rather than at one end.
  const scale = span > 0 && Number.isFinite(span) ? (RAMP_SIZE - 1) / span : 0;
  const constantIndex = (RAMP_SIZE - 1) >> 1;
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    const value = i < values.length ? values[i]! : Number.NaN;
    if (Number.isNaN(value)) {
      rgba[o] = mr;
      rgba[o + 1] = mg;
      rgba[o + 2] = mb;
    } else {
      let index = scale === 0 ? constantIndex : Math.round((value - min) * scale);
      if (index < 0) index = 0;
      else if (index > RAMP_SIZE - 1) index = RAMP_SIZE - 1;
      const p = index * 3;
      rgba[o] = ramp[p]!;
      rgba[o + 1] = ramp[p + 1]!;
      rgba[o + 2] = ramp[p + 2]!;
    }
    rgba[o + 3] = 255;
  }
  return rgba;
}

/** Points per category code (index = code); codes outside the list are not counted. */
export function categoryCounts(codes: Int32Array, nCategories: number): Uint32Array {
  const counts = new Uint32Array(nCategories);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i]!;
    if (code >= 0 && code < nCategories) counts[code] += 1;
  }
  return counts;
}

/** Short, readable number for legends: 3 significant digits, exponent when huge or tiny. */
export function formatLegendNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(3)));
}
