// Two-sample tests on one gene's values in two groups of cells, where most values are zero:
// the Wilcoxon rank-sum test (normal approximation with tie correction, two-sided, no
// continuity correction: scipy's mannwhitneyu(method='asymptotic', use_continuity=False) and
// scanpy's 'wilcoxon' z-score), Welch's t-test (scipy's ttest_ind(equal_var=False)) and
// Benjamini–Hochberg adjusted p-values (statsmodels' fdr_bh). Groups are given by their
// non-zero values only: the zeros of both groups are one tie group that is never sorted.
//
// The distribution tails come from stdlib-js (@stdlib/math-base-special-erfc and -betainc,
// ports of the Cephes / Boost algorithms, maintained): both keep double precision relative to
// the value far into the tail (p ≈ 1e-300), where 1 - cdf would round to zero.
import betainc from '@stdlib/math-base-special-betainc';
import erfc from '@stdlib/math-base-special-erfc';

/** Two-sided p-value of a standard normal z: P(|Z| ≥ |z|). */
export function normalTwoSidedP(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/** Two-sided p-value of Student's t with `df` degrees of freedom (any real df > 0): P(|T| ≥ |t|). */
export function studentTTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (!Number.isFinite(t)) return 0;
  const t2 = t * t;
  // P(|T| < t) = I_{t²/(df+t²)}(1/2, df/2). While that is below 1/2, p = 1 − it loses nothing;
  // beyond, p is small and is computed directly as I_{df/(df+t²)}(df/2, 1/2), precise in the tail.
  const inside = betainc(t2 / (df + t2), 0.5, df / 2);
  if (inside < 0.5) return 1 - inside;
  return betainc(df / (df + t2), df / 2, 0.5);
}

/** One side of a test: its size and its non-zero values (zeros are the rest of `n`). */
export interface GroupValues {
  /** Non-zero values, sorted ascending for the rank test. NaN is not allowed. */
  values: Float64Array;
  /** Cells in the group, zeros included. */
  n: number;
}

export interface RankSumResult {
  /** Sum of the ranks of the first group (average ranks for ties). */
  rankSum: number;
  /** Σ (t³ − t) over tie groups. */
  tieSum: number;
  /** scanpy's score: (rankSum − n1(n+1)/2) / σ with the tie-corrected σ; NaN when σ = 0. */
  z: number;
  /** Two-sided p-value of z; NaN when every value is tied. */
  pval: number;
}

/**
 * Wilcoxon rank-sum of group `a` against group `b`. Both value arrays must be sorted ascending;
 * the zeros (n − values.length in each group) form one tie group placed between the negative
 * and the positive values.
 */
export function rankSumTest(a: GroupValues, b: GroupValues): RankSumResult {
  const av = a.values;
  const bv = b.values;
  const ka = av.length;
  const kb = bv.length;
  const zerosA = a.n - ka;
  let zerosLeft = zerosA + (b.n - kb);
  let i = 0;
  let j = 0;
  let ranked = 0;
  let rankSum = 0;
  let tieSum = 0;
  while (i < ka || j < kb || zerosLeft > 0) {
    let v = Infinity;
    if (i < ka) v = av[i]!;
    if (j < kb && bv[j]! < v) v = bv[j]!;
    let ta = 0;
    let tb = 0;
    if (zerosLeft > 0 && !(v < 0)) {
      ta = zerosA;
      tb = zerosLeft - zerosA;
      zerosLeft = 0;
    } else {
      while (i < ka && av[i] === v) {
        i++;
        ta++;
      }
      while (j < kb && bv[j] === v) {
        j++;
        tb++;
      }
    }
    const t = ta + tb;
    rankSum += ta * (ranked + (t + 1) / 2);
    ranked += t;
    tieSum += t * t * t - t;
  }
  const n = a.n + b.n;
  const sigma = Math.sqrt(((a.n * b.n) / 12) * (n + 1 - tieSum / (n * (n - 1))));
  const z = sigma > 0 ? (rankSum - (a.n * (n + 1)) / 2) / sigma : NaN;
  return { rankSum, tieSum, z, pval: normalTwoSidedP(z) };
}

/** Mean and unbiased variance of a group from its non-zero values. */
export function groupMoments(g: GroupValues): { mean: number; variance: number } {
  const v = g.values;
  let sum = 0;
  for (let k = 0; k < v.length; k++) sum += v[k]!;
  const mean = sum / g.n;
  // Two passes over the non-zeros (zeros add mean² each): no cancellation as with Σx² − n·mean².
  let ss = (g.n - v.length) * mean * mean;
  for (let k = 0; k < v.length; k++) {
    const d = v[k]! - mean;
    ss += d * d;
  }
  return { mean, variance: g.n > 1 ? ss / (g.n - 1) : NaN };
}

export interface WelchResult {
  t: number;
  df: number;
  /** NaN where scipy gives NaN: a group of one cell, or no variance in either group. */
  pval: number;
}

/** Welch's unequal-variances t-test of `a` against `b` (two-sided). */
export function welchTTest(a: GroupValues, b: GroupValues): WelchResult {
  const ma = groupMoments(a);
  const mb = groupMoments(b);
  const va = ma.variance / a.n;
  const vb = mb.variance / b.n;
  const se2 = va + vb;
  const t = (ma.mean - mb.mean) / Math.sqrt(se2);
  const df = (se2 * se2) / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  return { t, df, pval: se2 > 0 ? studentTTwoSidedP(t, df) : NaN };
}

/**
 * Benjamini–Hochberg adjusted p-values (statsmodels multipletests method='fdr_bh'): p·m/rank,
 * made monotone from the largest p down, capped at 1. NaN p-values are not allowed.
 */
export function benjaminiHochberg(pvals: ArrayLike<number>): Float64Array {
  const m = pvals.length;
  const order = Uint32Array.from({ length: m }, (_, i) => i).sort((x, y) => pvals[x]! - pvals[y]! || x - y);
  const adjusted = new Float64Array(m);
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const i = order[r]!;
    running = Math.min(running, (pvals[i]! * m) / (r + 1));
    adjusted[i] = running;
  }
  return adjusted;
}
