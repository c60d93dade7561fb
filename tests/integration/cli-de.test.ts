// `cellar de` through the built CLI on a store made from real anndata files, compared gene by
// gene with SciPy (mannwhitneyu, ttest_ind), statsmodels (fdr_bh) and numpy computed from the
// same files read by anndata: p-values, adjusted p-values, log fold changes, fractions of
// expressing cells, scores and the ranking. Also: --out CSV, --top, --version, a layer that is
// not counts, and every way of naming the groups wrongly (exit 2, one clear sentence, nothing
// written).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeResult } from '../../src/shared/de-types';
import { cellar, firstLine, removeDir, snapshotTree, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';

/**
 * counts1/counts2 (260 + 190 cells, 120 genes, float32 counts): four cell types with their own
 * gene programs, library sizes that vary 4-fold, an unused category (Platelet), genes that are
 * zero everywhere, one gene seen in a single cell, and gene symbols in var. scaled.h5ad: the
 * same kind of cells with X already log-normalised (not counts).
 */
const MAKE_INPUTS = String.raw`
import sys, os, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(8)
TYPES = ['T cell', 'B cell', 'NK', 'Mono', 'Platelet']
G = 120
def cells(n, prefix):
    ct = rng.choice(TYPES[:4], n)
    rate = np.full((n, G), 0.35)
    for t_i, t in enumerate(TYPES[:4]):
        program = [j for j in range(G) if j % 9 == t_i]
        rate[np.ix_(np.where(ct == t)[0], program)] = 1.5 + 2.5 * t_i
    rate[:, G - 4:] = 0
    rate *= rng.uniform(0.5, 2.0, size=(n, 1))
    X = rng.poisson(rate).astype(np.float32)
    X[:, G - 5] = 0
    obs = pd.DataFrame(index=[f'{prefix}{i}' for i in range(n)])
    obs['cell_type'] = pd.Categorical(ct, categories=TYPES)
    obs['donor'] = rng.choice(['d1', 'd2'], n).astype(object)
    obs['n_counts'] = X.sum(axis=1).astype(np.float64)
    return X, obs
var = pd.DataFrame({'gene_symbol': [f'SYM{j}' for j in range(G)]}, index=[f'ENSG{j:05d}' for j in range(G)])
for name, n, prefix in (('counts1.h5ad', 260, 'a'), ('counts2.h5ad', 190, 'b')):
    X, obs = cells(n, prefix)
    if name == 'counts1.h5ad':
        X[7, G - 5] = 3
    ad.AnnData(X=sp.csr_matrix(X), obs=obs, var=var.copy(), dtype=np.float32).write_h5ad(os.path.join(out, name))
X, obs = cells(150, 's')
X = np.log1p(X / np.maximum(X.sum(axis=1, keepdims=True), 1) * 1e4).astype(np.float32)
ad.AnnData(X=sp.csr_matrix(X), obs=obs, var=var.copy(), dtype=np.float32).write_h5ad(os.path.join(out, 'scaled.h5ad'))
print(json.dumps({'ok': True}))
`;

/**
 * The reference: argv = files (comma-separated), group and reference as Python expressions over
 * the concatenated obs ('rest' = every other cell), method, and whether to log-normalise.
 */
const REFERENCE = String.raw`
import sys, json, warnings
import numpy as np, pandas as pd, anndata as ad, scipy.sparse as sp
from scipy import stats
from statsmodels.stats.multitest import multipletests
warnings.filterwarnings('ignore')
files, group_expr, reference_expr, method, normalise = sys.argv[1].split(','), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == 'yes'
adatas = [ad.read_h5ad(f) for f in files]
obs = pd.concat([a.obs for a in adatas])
X = sp.vstack([sp.csr_matrix(a.X, dtype=np.float64) for a in adatas]).tocsr()
if normalise:
    total = np.asarray(X.sum(axis=1)).ravel()
    X.data = np.log1p(X.data * 1e4 / np.repeat(total, np.diff(X.indptr)))
in_group = np.asarray(eval(group_expr), dtype=bool)
in_reference = ~in_group if reference_expr == 'rest' else np.asarray(eval(reference_expr), dtype=bool)
A, B = X[in_group].toarray(), X[in_reference].toarray()
n1, n2 = A.shape[0], B.shape[0]
if method == 'wilcoxon':
    p = stats.mannwhitneyu(A, B, use_continuity=False, alternative='two-sided', method='asymptotic', axis=0).pvalue
    ranks = stats.rankdata(np.vstack([A, B]), axis=0)
    n = n1 + n2
    tie = np.array([float(((c.astype(np.float64) ** 3) - c).sum()) for c in (np.unique(ranks[:, j], return_counts=True)[1] for j in range(A.shape[1]))])
    with np.errstate(all='ignore'):
        score = (ranks[:n1].sum(axis=0) - n1 * (n + 1) / 2) / np.sqrt(n1 * n2 / 12 * ((n + 1) - tie / (n * (n - 1))))
else:
    r = stats.ttest_ind(A, B, equal_var=False, axis=0)
    p, score = r.pvalue, r.statistic
untestable = ~np.isfinite(p) | ~np.isfinite(score)
p = np.where(untestable, 1.0, p)
score = np.where(untestable, 0.0, score)
print(json.dumps({
    'genes': [str(g) for g in adatas[0].var_names],
    'n_in': int(n1), 'n_out': int(n2), 'untestable': int(untestable.sum()),
    'pval': p.tolist(), 'padj': multipletests(p, method='fdr_bh')[1].tolist(), 'score': score.tolist(),
    'logfc': np.log2((np.expm1(A).mean(axis=0) + 1e-9) / (np.expm1(B).mean(axis=0) + 1e-9)).tolist(),
    'pct_in': (A > 0).mean(axis=0).tolist(), 'pct_out': (B > 0).mean(axis=0).tolist(),
}))
`;

interface Reference {
  genes: string[];
  n_in: number;
  n_out: number;
  untestable: number;
  pval: number[];
  padj: number[];
  score: number[];
  logfc: number[];
  pct_in: number[];
  pct_out: number[];
}

let root: string;
let home: string;
let inputs: string;
const h = () => ({ home });
const COUNTS = () => ['counts1.h5ad', 'counts2.h5ad'].map((f) => join(inputs, f)).join(',');

function ok(r: CellarResult): unknown {
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

function de(args: string[], store = 'cells'): DeResult {
  return ok(cellar(['de', '--store', store, ...args, '--json'], h())) as DeResult;
}

function reference(files: string, group: string, ref: string, method: string, normalise = true): Reference {
  return runPythonJson<Reference>(REFERENCE, [files, group, ref, method, normalise ? 'yes' : 'no']);
}

const close = (ours: number, expected: number, rel: number) => Math.abs(ours - expected) <= rel * Math.abs(expected);

/** Every gene of ours against the reference; returns the largest relative p-value difference. */
function expectSameAsReference(ours: DeResult, ref: Reference): number {
  expect(ours.results).toHaveLength(ref.genes.length);
  expect(ours.group.n_cells).toBe(ref.n_in);
  expect(ours.reference.n_cells).toBe(ref.n_out);
  const byGene = new Map(ours.results.map((r) => [r.gene, r]));
  let worst = 0;
  ref.genes.forEach((gene, i) => {
    const row = byGene.get(gene)!;
    expect(row, gene).toBeDefined();
    expect(row.symbol).toBe(`SYM${Number(gene.slice(4))}`);
    for (const [field, tolerance] of [['pval', 1e-8], ['padj', 1e-8], ['score', 1e-9], ['logfc', 1e-9]] as const) {
      const expected = ref[field][i]!;
      if (field !== 'score' && field !== 'logfc' && expected < 1e-300) expect(row[field]).toBeLessThan(1e-290);
      else expect(close(row[field], expected, tolerance) || Math.abs(row[field] - expected) < 1e-12, `${gene} ${field}: ours ${row[field]}, reference ${expected}`).toBe(true);
    }
    expect(row.pct_in, `${gene} pct_in`).toBe(ref.pct_in[i]);
    expect(row.pct_out, `${gene} pct_out`).toBe(ref.pct_out[i]);
    if (ref.pval[i]! > 1e-300) worst = Math.max(worst, Math.abs(row.pval - ref.pval[i]!) / ref.pval[i]!);
  });
  // Ranked best first: by score, highest first.
  for (let k = 1; k < ours.results.length; k++) expect(ours.results[k - 1]!.score).toBeGreaterThanOrEqual(ours.results[k]!.score);
  return worst;
}

beforeAll(() => {
  root = tempDir('cli-de');
  home = join(root, 'home');
  inputs = join(root, 'in');
  runPythonJson(MAKE_INPUTS, [inputs]);
  ok(cellar(['import', join(inputs, 'counts1.h5ad'), join(inputs, 'counts2.h5ad'), '--collection', 'pair'], h()));
  ok(cellar(['concat', '--collection', 'pair', '--store', 'cells'], h()));
  ok(cellar(['import', join(inputs, 'scaled.h5ad'), '--collection', 'scaled-files'], h()));
  ok(cellar(['concat', '--collection', 'scaled-files', '--store', 'scaled'], h()));
}, 180_000);

afterAll(() => removeDir(root));

describe('cellar de against SciPy / statsmodels / numpy on the same files', () => {
  it('Wilcoxon, a category against the rest: every gene matches (p within 1e-8 relative)', () => {
    const ours = de(['--groupby', 'cell_type', '--group', 'B cell']);
    const ref = reference(COUNTS(), 'obs.cell_type == "B cell"', 'rest', 'wilcoxon');
    const worst = expectSameAsReference(ours, ref);
    console.log(`cellar de wilcoxon: largest relative p-value difference from SciPy ${worst.toExponential(2)}`);
    expect(ours).toMatchObject({ method: 'wilcoxon', layer: 'data', values: 'log-normalized', n_genes: 120, group: { label: 'cell_type == "B cell"' }, reference: { label: 'rest' } });
    // Four genes are zero in every cell: untestable, reported as p = 1 with a notice.
    expect(ref.untestable).toBe(4);
    expect(ours.notices.join(' ')).toMatch(/^4 gene\(s\) could not be tested/);
    // B cells' program (genes 1, 10, 19, ...) leads the ranking.
    expect(Number(ours.results[0]!.gene.slice(4)) % 9).toBe(1);
  });

  it('Welch t-test, one category against another', () => {
    const ours = de(['--groupby', 'cell_type', '--group', 'NK', '--reference', 'T cell', '--method', 't-test']);
    expectSameAsReference(ours, reference(COUNTS(), 'obs.cell_type == "NK"', 'obs.cell_type == "T cell"', 't-test'));
    expect(ours.method).toBe('t-test');
  });

  it('groups given by obs filters (the query grammar), both methods', () => {
    for (const method of ['wilcoxon', 't-test']) {
      const ours = de(['--obs', 'cell_type == "Mono" and donor == "d1"', '--reference-obs', 'cell_type in ["T cell", "NK"] and n_counts > 30', '--method', method]);
      const ref = reference(COUNTS(), '(obs.cell_type == "Mono") & (obs.donor == "d1")', 'obs.cell_type.isin(["T cell", "NK"]) & (obs.n_counts > 30)', method);
      expectSameAsReference(ours, ref);
    }
  });

  it('a group of one cell against the rest (Wilcoxon is defined, the t-test is not)', () => {
    const w = de(['--obs', 'obs_id == "a7"']);
    expectSameAsReference(w, reference(COUNTS(), 'obs.index == "a7"', 'rest', 'wilcoxon'));
    const t = de(['--obs', 'obs_id == "a7"', '--method', 't-test']);
    expect(t.results.every((r) => r.pval === 1 && r.score === 0)).toBe(true);
    expect(t.notices.join(' ')).toMatch(/at least two cells on each side/);
  });

  it('a layer that is not counts is tested as it is, and the result says so', () => {
    const ours = de(['--groupby', 'cell_type', '--group', 'T cell'], 'scaled');
    expect(ours.values).toBe('as-stored');
    expect(ours.notices[0]).toMatch(/^Layer "data" is not raw counts \(it holds values that are not whole numbers\), so its values were tested as they are/);
    expectSameAsReference(ours, reference(join(inputs, 'scaled.h5ad'), 'obs.cell_type == "T cell"', 'rest', 'wilcoxon', false));
  });

  it('--out writes every kept gene as CSV in rank order; --top keeps the best N', () => {
    const out = join(root, 'b-cells.csv');
    const top = de(['--groupby', 'cell_type', '--group', 'B cell', '--top', '10', '--out', out]);
    expect(top.results).toHaveLength(10);
    const all = de(['--groupby', 'cell_type', '--group', 'B cell']);
    expect(top.results).toEqual(all.results.slice(0, 10));
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('gene,symbol,logfc,pval,padj,pct_in,pct_out,score');
    expect(lines.slice(1).map((l) => l.split(','))).toEqual(top.results.map((r) => [r.gene, r.symbol, r.logfc, r.pval, r.padj, r.pct_in, r.pct_out, r.score].map(String)));
    // Without --json: a table of the best genes.
    const text = cellar(['de', '--store', 'cells', '--groupby', 'cell_type', '--group', 'B cell', '--top', '3'], h());
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Wilcoxon rank-sum on log-normalised values of layer data, cells version 1:/);
    expect(text.stdout).toContain(all.results[0]!.gene);
  });

  it('--version reads that version: a column added later is not in version 1', () => {
    const csv = join(root, 'flag.csv');
    const ids = [...Array.from({ length: 260 }, (_, i) => `a${i}`), ...Array.from({ length: 190 }, (_, i) => `b${i}`)];
    writeFileSync(csv, `obs_id,flag\n${ids.map((id, i) => `${id},${i % 3 === 0 ? 'yes' : 'no'}`).join('\n')}\n`);
    ok(cellar(['annotate', '--store', 'cells', '--from', csv], h()));
    const latest = de(['--groupby', 'flag', '--group', 'yes']);
    expect(latest.store.version).toBe(2);
    expect(latest.group.n_cells).toBe(150);
    const old = cellar(['de', '--store', 'cells', '--version', '1', '--groupby', 'flag', '--group', 'yes'], h());
    expect(old.code).toBe(1);
    expect(firstLine(old.stderr)).toMatch(/^There is no obs column "flag"\./);
    expect(de(['--version', '1', '--groupby', 'cell_type', '--group', 'NK']).store.version).toBe(1);
  });
});

describe('bad requests: one sentence naming the problem, nothing written; exit 2 for how the flags are combined, exit 1 for what the store does not hold', () => {
  const CASES: { name: string; args: string[]; message: RegExp; code: string }[] = [
    { name: 'an unknown --groupby column (with the closest name)', args: ['--groupby', 'celltype', '--group', 'NK'], message: /^There is no obs column "celltype"\. Did you mean "cell_type"\? The columns are /, code: 'unknown_column' },
    { name: 'an unknown column in a filter', args: ['--obs', 'celltype == "NK"'], message: /^--obs: Unknown column "celltype" in filter/, code: 'unknown_column' },
    { name: 'a value the column does not have (with the closest one)', args: ['--groupby', 'cell_type', '--group', 'B cel'], message: /^obs column "cell_type" has no value "B cel" \(--group\)\. Did you mean "B cell"\? Its values are /, code: 'not_found' },
    { name: 'a reference value the column does not have', args: ['--groupby', 'cell_type', '--group', 'NK', '--reference', 'monocyte'], message: /^obs column "cell_type" has no value "monocyte" \(--reference\)\./, code: 'not_found' },
    { name: 'a category no cell has (empty group)', args: ['--groupby', 'cell_type', '--group', 'Platelet'], message: /^The group of --group "Platelet" is empty: no cell has cell_type == "Platelet"\./, code: 'bad_groups' },
    { name: 'a filter that matches no cell (empty group)', args: ['--obs', 'n_counts > 1e9'], message: /^The group \(n_counts > 1e9\) is empty: no cell of the store matches it\./, code: 'bad_groups' },
    { name: 'a reference filter that matches no cell', args: ['--obs', 'cell_type == "NK"', '--reference-obs', 'donor == "d9"'], message: /^The reference \(donor == "d9"\) is empty/, code: 'bad_groups' },
    { name: 'a group of every cell (the rest is empty)', args: ['--obs', 'n_counts >= 0'], message: /^Every cell is in the group \(n_counts >= 0\), so the rest is empty/, code: 'bad_groups' },
    { name: 'the same value on both sides', args: ['--groupby', 'cell_type', '--group', 'NK', '--reference', 'NK'], message: /^--group and --reference are both "NK"/, code: 'usage' },
    { name: 'the same filter on both sides', args: ['--obs', 'donor == "d1"', '--reference-obs', 'donor == "d1"'], message: /^--obs and --reference-obs are the same filter/, code: 'usage' },
    { name: 'two filters that select the same cells', args: ['--obs', 'donor == "d1"', '--reference-obs', 'donor != "d2"'], message: /^--obs \(donor == "d1"\) and --reference-obs \(donor != "d2"\) select the same \d+ cells/, code: 'bad_groups' },
    { name: 'overlapping groups', args: ['--obs', 'cell_type == "NK"', '--reference-obs', 'donor == "d1"'], message: /^\d+ cell\(s\) match both --obs \(cell_type == "NK"\) and --reference-obs \(donor == "d1"\); the two groups must not overlap\./, code: 'bad_groups' },
    { name: 'both ways of naming the group', args: ['--obs', 'donor == "d1"', '--groupby', 'cell_type', '--group', 'NK'], message: /^Name the group either with --obs FILTER or with --groupby/, code: 'usage' },
    { name: 'no group at all', args: [], message: /^Name the group either with --obs FILTER or with --groupby/, code: 'usage' },
    { name: '--groupby without --group', args: ['--groupby', 'cell_type'], message: /^--groupby cell_type needs --group VALUE/, code: 'usage' },
    { name: 'an unknown method', args: ['--groupby', 'cell_type', '--group', 'NK', '--method', 'logreg'], message: /^Unknown --method logreg; use wilcoxon or t-test\./, code: 'usage' },
    { name: 'a layer the store does not have', args: ['--groupby', 'cell_type', '--group', 'NK', '--layer', 'counts'], message: /^The store cells has no layer "counts"; it has data\./, code: 'not_found' },
    { name: '--top 0', args: ['--groupby', 'cell_type', '--group', 'NK', '--top', '0'], message: /^Option --top must be at least 1/, code: 'usage' },
  ];
  for (const c of CASES) {
    it(c.name, () => {
      const before = snapshotTree(join(home, 'stores'));
      const r = cellar(['de', '--store', 'cells', ...c.args, '--json'], h());
      expect(r.code, r.stderr).toBe(c.code === 'usage' ? 2 : 1);
      expect(firstLine(r.stderr)).toMatch(c.message);
      const { error } = r.json as { error: { code: string; message: string } };
      expect(error.code).toBe(c.code);
      // A filter's message goes on with the filter and a caret under the problem.
      expect(firstLine(error.message)).toBe(firstLine(r.stderr));
      expect(r.stderr).not.toContain('    at ');
      const after = snapshotTree(join(home, 'stores'));
      delete before['.lock'];
      expect(Object.keys(after).filter((k) => !k.endsWith('.lock'))).toEqual(Object.keys(before).filter((k) => !k.endsWith('.lock')));
    });
  }
});
