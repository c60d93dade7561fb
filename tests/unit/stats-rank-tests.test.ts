// The statistics of differential expression against SciPy and statsmodels on the same numbers,
// computed in this test through Debian's /usr/bin/python3: the Wilcoxon rank-sum (rank sum,
// two-sided p with tie correction and no continuity correction), Welch's t-test, the normal and
// t tails far out (p ≈ 1e-300), Benjamini–Hochberg, and how the gene blocks are cut.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, normalTwoSidedP, rankSumTest, studentTTwoSidedP, welchTTest, type GroupValues } from '../../src/main/engine/stats/rank-tests';
import { planGeneBlocks } from '../../src/main/engine/ops/differential-expression';

const REFERENCE = String.raw`
import sys, json, warnings
import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
warnings.filterwarnings('ignore')
q = json.load(sys.stdin)
def num(x):
    x = float(x)
    return None if np.isnan(x) else x
cases = []
for c in q['cases']:
    a, b = np.array(c['a'], dtype=np.float64), np.array(c['b'], dtype=np.float64)
    mw = stats.mannwhitneyu(a, b, use_continuity=False, alternative='two-sided', method='asymptotic')
    tt = stats.ttest_ind(a, b, equal_var=False)
    ranks = stats.rankdata(np.concatenate([a, b]))
    cases.append({'u': num(mw.statistic), 'p_mw': num(mw.pvalue), 'rank_sum': float(ranks[:len(a)].sum()), 't': num(tt.statistic), 'p_t': num(tt.pvalue)})
print(json.dumps({
    'cases': cases,
    'normal': [num(2 * stats.norm.sf(z)) for z in q['z']],
    'student': [num(2 * stats.t.sf(t, df)) for t, df in q['t']],
    'bh': [num(v) for v in multipletests(np.array(q['p']), method='fdr_bh')[1]],
}))
`;

interface Reference {
  cases: { u: number | null; p_mw: number | null; rank_sum: number; t: number | null; p_t: number | null }[];
  normal: number[];
  student: number[];
  bh: number[];
}

function reference(query: { cases: { a: number[]; b: number[] }[]; z: number[]; t: [number, number][]; p: number[] }): Reference {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', REFERENCE], { input: JSON.stringify(query), encoding: 'utf8', maxBuffer: 1 << 28 })) as Reference;
}

/** A small seeded generator, so the cases are the same on every run. */
function randomSource(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A group as the engine sees it: its non-zero values, sorted, and its size. */
function group(values: number[]): GroupValues {
  return { values: Float64Array.from(values.filter((v) => v !== 0)).sort(), n: values.length };
}

/** Relative closeness where the reference is a normal double; both zero (underflow) counts as equal. */
function expectClose(ours: number, ref: number | null, what: string, rel = 1e-9): void {
  if (ref === null) {
    expect(ours, `${what}: SciPy gives NaN`).toBeNaN();
    return;
  }
  if (ref < 1e-300) {
    // Below 1e-300 doubles lose digits (subnormals, then 0): only "this small" is compared.
    expect(ours, what).toBeLessThan(1e-290);
    return;
  }
  expect(Math.abs(ours - ref) / Math.abs(ref), `${what}: ours ${ours}, SciPy ${ref}`).toBeLessThan(rel);
}

const rand = randomSource(42);
const counts = (n: number, p0: number, max: number) => Array.from({ length: n }, () => (rand() < p0 ? 0 : 1 + Math.floor(rand() * max)));
const log1pNormalised = (n: number, p0: number) => Array.from({ length: n }, () => (rand() < p0 ? 0 : Math.log1p((1 + Math.floor(rand() * 4)) * (1e4 / (800 + Math.floor(rand() * 3) * 100)))));

const CASES: { name: string; a: number[]; b: number[] }[] = [
  { name: 'counts with heavy ties and zeros', a: counts(40, 0.5, 3), b: counts(60, 0.7, 3) },
  { name: 'log-normalised values (ties between equal ratios)', a: log1pNormalised(80, 0.6), b: log1pNormalised(120, 0.4) },
  { name: 'one cell against five', a: [2], b: [0, 1, 0, 3, 1] },
  { name: 'one cell at zero against five', a: [0], b: [0, 1, 0, 3, 1] },
  { name: 'two against three', a: [1, 4], b: [0, 2, 2] },
  { name: 'three against three, no zeros', a: [1.5, 2.5, 3.5], b: [0.5, 1.0, 2.0] },
  { name: 'one against one', a: [3], b: [1] },
  { name: 'every value zero', a: [0, 0, 0], b: [0, 0, 0, 0] },
  { name: 'a gene seen in one cell only', a: [0, 0, 5, 0], b: [0, 0, 0, 0, 0, 0] },
  { name: 'negative values around the zeros (data that is not counts)', a: [-1.5, 0, 0.5, 2, -0.25, 0, 3], b: [-2, -1.5, 0, 0, 0.5, 1, -0.25, 0] },
  { name: 'continuous values without zeros', a: Array.from({ length: 30 }, () => rand() * 3 + 0.5), b: Array.from({ length: 25 }, () => rand() * 3) },
];
// Far tails: 1,000 against 1,000 distinct values whose overlap shrinks, to p ≈ 1e-300 and below.
for (const shift of [600, 760, 790, 800, 820, 850]) {
  CASES.push({ name: `1,000 vs 1,000 shifted by ${shift}`, a: Array.from({ length: 1000 }, (_, i) => i + shift + 0.5), b: Array.from({ length: 1000 }, (_, i) => i + 1) });
}
// Welch's t far out: well separated means with small spread, 40 cells a side.
for (const sd of [2, 0.5, 0.2, 0.12]) {
  const noise = () => (rand() + rand() + rand() - 1.5) * sd;
  CASES.push({ name: `t-test: means 1,000 apart, spread ${sd}`, a: Array.from({ length: 40 }, () => 1000 + noise()), b: Array.from({ length: 40 }, () => 5 + noise()) });
}

const Z = [0, 1e-8, 0.1, 1, 1.96, 5, 8.5, 12, 20, 30, 35, 37, 37.5, 38, 38.4, 40];
const T: [number, number][] = [];
for (const df of [0.7, 1, 1.5, 2.3, 4, 10.5, 37.9, 100.2, 1e4]) for (const t of [0, 1e-6, 0.3, 1, 2.5, 7, 30, 1e3, 1e6, 1e12]) T.push([t, df]);
// p ≈ 1e-298 .. 1e-274: the far tail at moderate df.
T.push([1e6, 58], [1e6, 57], [1e5, 70.5], [1e4, 90]);
const P = [...Array.from({ length: 200 }, () => (rand() < 0.1 ? 1 : rand() < 0.2 ? 0.05 : rand() ** 4)), 1e-300, 0, 3e-12, 3e-12, 0.5];

const ref = reference({ cases: CASES, z: Z, t: T, p: P });

describe('Wilcoxon rank-sum against scipy.stats.mannwhitneyu (asymptotic, no continuity correction)', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, () => {
      const r = rankSumTest(group(c.a), group(c.b));
      const expected = ref.cases[i]!;
      // The rank sum against scipy.stats.rankdata (average ranks): exact, zeros included.
      expect(r.rankSum).toBe(expected.rank_sum);
      expectClose(r.rankSum - (c.a.length * (c.a.length + 1)) / 2, expected.u, 'U statistic', 1e-12);
      expectClose(r.pval, expected.p_mw, 'p-value');
    });
  }

  it('reaches p ≈ 1e-300 and agrees there', () => {
    const tail = CASES.map((c, i) => ({ c, p: ref.cases[i]!.p_mw })).filter((x) => x.c.name.startsWith('1,000'));
    expect(tail.some((x) => x.p !== null && x.p > 0 && x.p < 1e-290)).toBe(true);
    for (const x of tail) expectClose(rankSumTest(group(x.c.a), group(x.c.b)).pval, x.p, x.c.name);
  });

  it('scores every value tied (an all-zero gene) as undefined, as SciPy does (NaN)', () => {
    const r = rankSumTest(group([0, 0, 0]), group([0, 0]));
    expect(r.z).toBeNaN();
    expect(r.pval).toBeNaN();
    // Positive z means higher in the first group.
    expect(rankSumTest(group([5, 6, 7]), group([0, 1, 0])).z).toBeGreaterThan(0);
  });
});

describe("Welch's t-test against scipy.stats.ttest_ind(equal_var=False)", () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, () => {
      const r = welchTTest(group(c.a), group(c.b));
      const expected = ref.cases[i]!;
      if (expected.p_t === null) {
        // A one-cell group or no variance at all: SciPy has no p-value, neither do we.
        expect(r.pval).toBeNaN();
        return;
      }
      expectClose(r.t, expected.t, 't statistic');
      expectClose(r.pval, expected.p_t, 'p-value');
    });
  }

  it('reaches p far below 1e-250 and agrees there', () => {
    const tail = CASES.map((c, i) => ({ c, p: ref.cases[i]!.p_t })).filter((x) => x.c.name.startsWith('t-test'));
    expect(tail.some((x) => x.p !== null && x.p > 0 && x.p < 1e-250)).toBe(true);
  });
});

describe('distribution tails', () => {
  it('normal: 2·sf(z) matches scipy.stats.norm.sf to 1e-12 relative, out to z = 38 (p ≈ 1e-316)', () => {
    Z.forEach((z, i) => expectClose(normalTwoSidedP(z), ref.normal[i]!, `z = ${z}`, 1e-12));
    expect(normalTwoSidedP(-5)).toBe(normalTwoSidedP(5));
  });

  it("Student's t: 2·sf(t, df) matches scipy.stats.t.sf to 1e-11 relative, fractional df, t up to 1e12, p down to 1e-298", () => {
    T.forEach(([t, df], i) => expectClose(studentTTwoSidedP(t, df), ref.student[i]!, `t = ${t}, df = ${df}`, 1e-11));
    expect(ref.student.some((p) => p > 1e-300 && p < 1e-295)).toBe(true);
  });
});

describe('Benjamini–Hochberg', () => {
  it('matches statsmodels multipletests(method="fdr_bh") with ties, ones, zeros and tiny p-values', () => {
    const ours = benjaminiHochberg(P);
    P.forEach((_, i) => expectClose(ours[i]!, ref.bh[i]!, `p[${i}] = ${P[i]}`, 1e-12));
  });
});

describe('gene blocks', () => {
  it('are whole column batches under the entry budget; a batch over it alone is split gene by gene', () => {
    // 10 genes, batches of 4; the second batch alone holds 40 entries against a budget of 25.
    const entries = [1, 2, 3, 4, 10, 10, 10, 10, 5, 5];
    const starts = Array.from(planGeneBlocks(entries, 25, 4));
    expect(starts).toEqual([0, 4, 6, 8, 10]);
    for (let b = 0; b + 1 < starts.length; b++) {
      const held = entries.slice(starts[b], starts[b + 1]).reduce((s, e) => s + e, 0);
      expect(held).toBeLessThanOrEqual(25);
    }
    expect(Array.from(planGeneBlocks(entries, 1e9, 4))).toEqual([0, 10]);
    expect(Array.from(planGeneBlocks([], 10, 4))).toEqual([0]);
  });
});
