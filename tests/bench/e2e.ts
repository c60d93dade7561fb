// The end-to-end rows of `npm run bench` (SPEC §8, E rows; docs/benchmarks.md): what a user
// waits for. Our side is the CLI as a user runs it (`node bin/cellar.mjs …`, one process per
// command, start-up included); the peer is Debian's anndata as a user runs it
// (`/usr/bin/python3 -c …`, its imports included). Every command is timed from outside by
// timed.py (wall clock around the whole process, the kernel's peak RSS of the child). Both sides
// run in the environment the bench was started with. Each size runs several times, ours and the
// peer's command in turn, and the table shows medians and the ratio of the medians.
// The desktop service path (e2e-service.mjs) runs the same work through the service's handlers
// in one long-lived process (engine warm, as the app runs it).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const E_IDS = ['E1', 'E2', 'E3', 'ES'] as const;
/** Rows run only when named (`--only E4,E5`): they generate tens of gigabytes and take a long time. */
export const E_OPT_IN = ['E4', 'E5'] as const;
export type EId = (typeof E_IDS)[number] | (typeof E_OPT_IN)[number];
export const DEFAULT_E2E_CELLS = [5_000, 12_500, 50_000];
const BASE_CELLS = 50_000; // generate.py's cells per file at scale 1
const QUERY_CELLS = [2_000, 20_000];
const PCA = { nComponents: 50, genes: 2_000, seed: 0 };
const GB = 1e9;

export interface EndToEndOptions {
  repo: string;
  python: string;
  only: Set<EId>;
  cells: number[];
  runs: number;
  /** Runs of the start-up commands (E3). */
  startupRuns: number;
  /** Root of the generated data (bench-data/). */
  dataRoot: string;
}

export interface ERow {
  id: string;
  what: string;
  ours: string;
  peer: string;
  ratio: string;
  target: string;
  oursRss: string;
  peerRss: string;
  verdict: 'pass' | 'fail' | '—';
}

/** What timed.py prints for one command. */
export interface Timed {
  seconds: number;
  user_seconds: number;
  sys_seconds: number;
  peak_rss_bytes: number;
  exit: number;
}

interface Sample extends Timed {
  /** The command's stdout (our --json answer, or the peer's one JSON line). */
  stdout: string;
}

// ---- the peer, as a user runs it --------------------------------------------------------

// Each snippet reads its arguments from sys.argv, does the work and prints one JSON line whose
// "seconds" is the time after the imports (the warm peer, compared with the service path).
const PY_HEAD = 'import time; t0 = time.perf_counter()\nimport sys, json, warnings; warnings.filterwarnings("ignore")\nimport anndata\n';
export const PEER_SNIPPETS = {
  /** read_h5ad ×N + concat(inner, label) + write_h5ad: the peer of import + concat (B1's). */
  concat: `${PY_HEAD}t1 = time.perf_counter()
out, files = sys.argv[1], sys.argv[2:]
a = anndata.concat([anndata.read_h5ad(f) for f in files], join="inner", label="dataset")
a.write_h5ad(out)
print(json.dumps({"seconds": time.perf_counter() - t1, "import_seconds": t1 - t0, "n_obs": a.n_obs, "nnz": int(a.X.nnz)}))
`,
  /** Appending with anndata: read the concatenated file and the new one, concat (outer, keeps new genes), write. */
  append: `${PY_HEAD}t1 = time.perf_counter()
src, new, out = sys.argv[1], sys.argv[2], sys.argv[3]
a = anndata.concat([anndata.read_h5ad(src), anndata.read_h5ad(new)], join="outer")
a.write_h5ad(out)
print(json.dumps({"seconds": time.perf_counter() - t1, "import_seconds": t1 - t0, "n_obs": a.n_obs, "n_vars": a.n_vars}))
`,
  /** A query export: backed read, the obs condition as a pandas mask, the cells to memory, write_h5ad. */
  query: `${PY_HEAD}t1 = time.perf_counter()
src, out, below = sys.argv[1], sys.argv[2], float(sys.argv[3])
a = anndata.read_h5ad(src, backed="r")
b = a[a.obs["pct_mito"].to_numpy() < below].to_memory()
b.write_h5ad(out)
print(json.dumps({"seconds": time.perf_counter() - t1, "import_seconds": t1 - t0, "n_obs": b.n_obs, "nnz": int(b.X.nnz)}))
`,
  /** PCA as with scipy: read, the most variable genes of the raw counts, svds on the implicitly centred subset. */
  pca: `${PY_HEAD}import numpy as np
from scipy.sparse.linalg import LinearOperator, svds
t1 = time.perf_counter()
src, n_genes, k, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
a = anndata.read_h5ad(src)
x = a.X
mean = np.asarray(x.mean(axis=0)).ravel()
var = np.asarray(x.multiply(x).mean(axis=0)).ravel() - mean ** 2
genes = np.sort(np.argsort(-var, kind="stable")[:n_genes])
sub = x[:, genes].astype(np.float64)
mu = np.asarray(sub.mean(axis=0)).ravel()
subt = sub.T.tocsr()
op = LinearOperator(sub.shape, matvec=lambda v: sub @ np.ravel(v) - mu @ np.ravel(v), rmatvec=lambda u: subt @ np.ravel(u) - mu * np.ravel(u).sum(), dtype=np.float64)
u, s, _ = svds(op, k=k, v0=np.random.default_rng(seed).standard_normal(min(sub.shape)))
order = np.argsort(-s)
a.obsm["X_pca"] = (u[:, order] * s[order]).astype(np.float32)
print(json.dumps({"seconds": time.perf_counter() - t1, "import_seconds": t1 - t0, "n_obs": int(sub.shape[0]), "n_genes": int(sub.shape[1])}))
`,
  /** The peer's fixed cost: the interpreter and the import. */
  importOnly: `${PY_HEAD}print(json.dumps({"seconds": 0, "import_seconds": time.perf_counter() - t0}))\n`,
  /** The query thresholds: the pct_mito value below which exactly K cells of the concatenation lie. */
  thresholds: `import sys, json, warnings; warnings.filterwarnings("ignore")
import numpy as np, anndata
files, counts = sys.argv[2:], [int(c) for c in sys.argv[1].split(",")]
v = np.sort(np.concatenate([anndata.read_h5ad(f, backed="r").obs["pct_mito"].to_numpy() for f in files]))
out = []
for k in counts:
    if k >= len(v):
        out.append({"cells": int(len(v)), "below": float(v[-1]) + 1.0})
    else:
        assert v[k - 1] < v[k], "tied pct_mito at the cut"
        out.append({"cells": k, "below": float((v[k - 1] + v[k]) / 2)})
print(json.dumps(out))
`,
};

// ---- running and timing ---------------------------------------------------------------------

export function runCapture(command: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });
}

export class Timer {
  private n = 0;
  constructor(
    private readonly options: EndToEndOptions,
    private readonly scratch: string,
  ) {}

  /** Times one whole command; throws with its stderr when it fails. */
  async run(command: string, args: string[]): Promise<Sample> {
    const out = join(this.scratch, `cmd-${this.n}.out`);
    const err = join(this.scratch, `cmd-${this.n++}.err`);
    const r = await runCapture(this.options.python, [join(this.options.repo, 'tests/bench/timed.py'), '--stdout', out, '--stderr', err, '--', command, ...args], this.options.repo);
    if (r.code !== 0) throw new Error(`timed.py failed (exit ${r.code}): ${r.stderr.trim()}`);
    const timed = JSON.parse(r.stdout.trim().split('\n').pop()!) as Timed;
    const stdout = readFileSync(out, 'utf8');
    const stderr = readFileSync(err, 'utf8');
    rmSync(out, { force: true });
    rmSync(err, { force: true });
    if (timed.exit !== 0) throw new Error(`${[command, ...args].join(' ').slice(0, 200)} exited with ${timed.exit}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return { ...timed, stdout };
  }

  cellar(args: string[]): Promise<Sample> {
    return this.run(process.execPath, [join(this.options.repo, 'bin/cellar.mjs'), ...args]);
  }

  peer(snippet: string, args: string[]): Promise<Sample> {
    return this.run(this.options.python, ['-c', snippet, ...args]);
  }
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function seconds(s: number): string {
  return s < 1 ? `${(s * 1000).toPrecision(3)} ms` : `${s.toPrecision(3)} s`;
}
export function bytes(b: number): string {
  return b >= GB ? `${(b / GB).toFixed(2)} GB` : `${(b / 1e6).toFixed(0)} MB`;
}
function times(r: number): string {
  return `${r.toPrecision(3)}×`;
}
function spread(values: number[]): string {
  return `${seconds(Math.min(...values))}–${seconds(Math.max(...values))}`;
}

/** One measured quantity over the runs: per-run totals and peak RSS (the largest process). */
export class Series {
  readonly seconds: number[] = [];
  readonly peaks: number[] = [];
  add(...samples: { seconds: number; peak_rss_bytes: number }[]): void {
    this.seconds.push(samples.reduce((s, x) => s + x.seconds, 0));
    this.peaks.push(Math.max(...samples.map((x) => x.peak_rss_bytes)));
  }
  get median(): number {
    return median(this.seconds);
  }
  get peak(): number {
    return Math.max(...this.peaks);
  }
}

function label(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}k` : `${(n / 1000).toFixed(1)}k`;
}

export interface EndToEndOutcome {
  rows: ERow[];
  notes: string[];
  raw: Record<string, unknown>;
}

/** Data for one size: generated by generate.py at scale cells / 50,000 (reused when it exists). */
async function dataFor(options: EndToEndOptions, cells: number): Promise<{ dir: string; files: string[]; append: string; nnz: number }> {
  const scale = cells / BASE_CELLS;
  const dir = join(options.dataRoot, `scale-${scale}`);
  const gen = await runCapture(options.python, [join(options.repo, 'tests/bench/generate.py'), '--scale', String(scale), '--out', dir], options.repo);
  if (gen.code !== 0) throw new Error(`generate.py --scale ${scale} failed: ${gen.stderr.trim()}`);
  const params = JSON.parse(readFileSync(join(dir, 'params.json'), 'utf8')) as { n_cells: number; concat_files: string[]; append_file: string; nnz: Record<string, number> };
  if (params.n_cells !== cells) throw new Error(`generate.py --scale ${scale} made ${params.n_cells} cells a file, not ${cells}`);
  return { dir, files: params.concat_files.map((f) => join(dir, f)), append: join(dir, params.append_file), nnz: params.concat_files.reduce((s, f) => s + params.nnz[f]!, 0) };
}

export async function runEndToEnd(options: EndToEndOptions, log: (line: string) => void): Promise<EndToEndOutcome> {
  const rows: ERow[] = [];
  const notes: string[] = [];
  const raw: Record<string, unknown> = {};
  const scratch = join(options.dataRoot, 'e2e-scratch');
  mkdirSync(scratch, { recursive: true });
  const timer = new Timer(options, scratch);
  const rowFor = (id: string, what: string, ours: Series | undefined, peer: Series | undefined, target: string, minRatio: number | null, oursRssLimit: number | null = null): ERow => {
    const ratio = ours?.seconds.length && peer?.seconds.length ? peer.median / ours.median : NaN;
    let verdict: ERow['verdict'] = '—';
    if (minRatio !== null && Number.isFinite(ratio)) verdict = ratio >= minRatio && (oursRssLimit === null || ours!.peak <= oursRssLimit) ? 'pass' : 'fail';
    return {
      id,
      what,
      ours: ours?.seconds.length ? `${seconds(ours.median)} (${spread(ours.seconds)})` : 'error',
      peer: peer?.seconds.length ? `${seconds(peer.median)} (${spread(peer.seconds)})` : peer ? 'error' : '—',
      ratio: Number.isFinite(ratio) ? times(ratio) : '—',
      target,
      oursRss: ours?.seconds.length ? bytes(ours.peak) : '—',
      peerRss: peer?.seconds.length ? bytes(peer.peak) : '—',
      verdict,
    };
  };

  const wantsSizes = options.only.has('E1') || options.only.has('E2') || options.only.has('ES');
  let smallFile = "";
  for (const cells of wantsSizes ? options.cells : []) {
    const size = `4 × ${cells.toLocaleString('en-US')}`;
    log(`E rows at ${size} cells: data ...`);
    const data = await dataFor(options, cells);
    const work = join(data.dir, 'work-e2e');
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const thresholds = JSON.parse((await runCapture(options.python, ['-c', PEER_SNIPPETS.thresholds, QUERY_CELLS.join(','), ...data.files], options.repo)).stdout) as { cells: number; below: number }[];
    const s = {
      import: new Series(), concat: new Series(), e1: new Series(), append: new Series(), pca: new Series(),
      query: thresholds.map(() => new Series()),
      queryNone: thresholds.map(() => new Series()),
      peerE1: new Series(), peerAppend: new Series(), peerPca: new Series(), peerQuery: thresholds.map(() => new Series()),
      peerWarm: { e1: [] as number[], append: [] as number[], pca: [] as number[], query: thresholds.map(() => [] as number[]) },
    };
    const checks: string[] = [];
    const peerConcat = join(work, 'peer-concat.h5ad');
    try {
      for (let run = 0; run < options.runs; run++) {
        log(`  run ${run + 1}/${options.runs}`);
        const home = join(work, `home-${run}`);
        rmSync(home, { recursive: true, force: true });
        const at = ['--home', home];
        // E1: import + concat, the peer's read ×4 + concat + write.
        const imp = await timer.cellar(['import', ...data.files, '--collection', 'c', ...at]);
        const cat = await timer.cellar(['concat', '--collection', 'c', '--store', 's', '--json', ...at]);
        s.import.add(imp);
        s.concat.add(cat);
        s.e1.add(imp, cat);
        rmSync(peerConcat, { force: true });
        const pc = await timer.peer(PEER_SNIPPETS.concat, [peerConcat, ...data.files]);
        s.peerE1.add(pc);
        const pcOut = JSON.parse(pc.stdout) as { seconds: number; n_obs: number; nnz: number };
        s.peerWarm.e1.push(pcOut.seconds);
        const ourCat = JSON.parse(cat.stdout) as { store?: { n_observations?: number } };
        if (run === 0) checks.push(`E1 ${size}: ours ${String(ourCat.store?.n_observations ?? '?')} cells, the peer ${pcOut.n_obs} cells / ${pcOut.nnz} non-zeros (generated: ${data.nnz})`);
        // E2: query → h5ad of K cells (pct_mito below a cut that leaves exactly K).
        for (const [i, t] of thresholds.entries()) {
          const ourOut = join(work, `ours-q${i}.h5ad`);
          const peerOut = join(work, `peer-q${i}.h5ad`);
          rmSync(ourOut, { force: true });
          rmSync(peerOut, { force: true });
          const q = await timer.cellar(['query', '--store', 's', '--obs', `pct_mito < ${t.below}`, '--out', ourOut, '--json', ...at]);
          s.query[i]!.add(q);
          // The same export uncompressed, as the peer writes it (our default is gzip).
          const ourNone = join(work, `ours-q${i}-none.h5ad`);
          rmSync(ourNone, { force: true });
          s.queryNone[i]!.add(await timer.cellar(['query', '--store', 's', '--obs', `pct_mito < ${t.below}`, '--out', ourNone, '--compression', 'none', ...at]));
          if (run === 0) checks.push(`E2 ${size} ${label(t.cells)} uncompressed: ${bytes(statSync(ourNone).size)}`);
          rmSync(ourNone, { force: true });
          const pq = await timer.peer(PEER_SNIPPETS.query, [peerConcat, peerOut, String(t.below)]);
          s.peerQuery[i]!.add(pq);
          const pqOut = JSON.parse(pq.stdout) as { seconds: number; n_obs: number };
          s.peerWarm.query[i]!.push(pqOut.seconds);
          if (run === 0) {
            const ours = JSON.parse(q.stdout) as { n_obs: number };
            checks.push(`E2 ${size} ${label(t.cells)}: ours ${ours.n_obs} cells (${bytes(statSync(ourOut).size)}), the peer ${pqOut.n_obs} (${bytes(statSync(peerOut).size)})`);
          }
          rmSync(ourOut, { force: true });
          rmSync(peerOut, { force: true });
        }
        // Append the 5th file (new genes, a new cell type); the peer re-concatenates with an outer join.
        const app = await timer.cellar(['append', '--store', 's', data.append, '--json', ...at]);
        s.append.add(app);
        const peerAppendOut = join(work, 'peer-append.h5ad');
        const pa = await timer.peer(PEER_SNIPPETS.append, [peerConcat, data.append, peerAppendOut]);
        s.peerAppend.add(pa);
        s.peerWarm.append.push((JSON.parse(pa.stdout) as { seconds: number }).seconds);
        // PCA of the 5 files (after the append, on both sides): 50 components on the 2,000 most variable genes of the raw counts.
        const pca = await timer.cellar(['embed', '--store', 's', '--pca', String(PCA.nComponents), '--genes', String(PCA.genes), '--seed', String(PCA.seed), ...at]);
        s.pca.add(pca);
        const pp = await timer.peer(PEER_SNIPPETS.pca, [peerAppendOut, String(PCA.genes), String(PCA.nComponents), String(PCA.seed)]);
        s.peerPca.add(pp);
        s.peerWarm.pca.push((JSON.parse(pp.stdout) as { seconds: number }).seconds);
        rmSync(peerAppendOut, { force: true });
        if (run < options.runs - 1) rmSync(home, { recursive: true, force: true });
      }
    } catch (error) {
      notes.push(`E ${size}: ${error instanceof Error ? error.message : String(error)}`);
    }
    notes.push(...checks);
    if (s.import.seconds.length) notes.push(`E1 ${size}: import ${seconds(s.import.median)} + concat ${seconds(s.concat.median)} (medians; peak RSS ${bytes(s.import.peak)} / ${bytes(s.concat.peak)})`);
    if (options.only.has('E1')) {
      rows.push(rowFor(`E1 ${label(cells)}`, `${size} cells: cellar import + concat`, s.e1, s.peerE1, '≥ 4×', 4, 1.5 * GB));
      rows.push(rowFor(`E1 append ${label(cells)}`, `${size} cells: cellar append (5th file)`, s.append, s.peerAppend, '(none)', null));
      rows.push(rowFor(`E PCA ${label(cells)}`, `${size} + 1 files: cellar embed --pca 50 (2,000 genes)`, s.pca, s.peerPca, '(none)', null));
    }
    if (options.only.has('E2')) {
      thresholds.forEach((t, i) => {
        rows.push(rowFor(`E2 ${label(cells)}/${label(t.cells)}`, `${size} cells: cellar query → h5ad of ${t.cells.toLocaleString('en-US')} cells (gzip, our default)`, s.query[i], s.peerQuery[i], '≥ 2×', 2));
        rows.push(rowFor(`E2u ${label(cells)}/${label(t.cells)}`, `${size} cells: the same, --compression none (as the peer writes)`, s.queryNone[i], s.peerQuery[i], '≥ 2×', 2));
      });
    }
    const keyRaw = `E ${cells}`;
    raw[keyRaw] = { ours: { import: s.import, concat: s.concat, append: s.append, pca: s.pca, query: s.query, queryNone: s.queryNone }, peer: { e1: s.peerE1, append: s.peerAppend, pca: s.peerPca, query: s.peerQuery, warmSeconds: s.peerWarm }, thresholds };

    // The desktop service path: the same work through the handlers in one long-lived process.
    if (options.only.has('ES')) {
      log(`  service path (${options.runs} runs after one warm-up, one process)`);
      const request = { runs: options.runs + 1, workDir: work, files: data.files, append: data.append, queries: thresholds.map((t) => ({ name: label(t.cells), obs: `pct_mito < ${t.below}` })), pca: PCA };
      const r = await runCapture(process.execPath, [join(options.repo, 'tests/bench/e2e-service.mjs'), JSON.stringify(request)], options.repo);
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (r.code !== 0 || !line.startsWith('{')) {
        notes.push(`ES ${size}: the service run failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      } else {
        const service = JSON.parse(line) as { runs: Record<string, number>[]; peakRssBytes: number };
        raw[`ES ${cells}`] = service;
        const warm = service.runs.slice(1); // the first run warms the process up
        const serviceSeries = (pick: (t: Record<string, number>) => number): Series => {
          const series = new Series();
          for (const t of warm) series.add({ seconds: pick(t), peak_rss_bytes: service.peakRssBytes });
          return series;
        };
        const warmPeer = (values: number[]): Series => {
          const series = new Series();
          for (const v of values) series.add({ seconds: v, peak_rss_bytes: 0 });
          return series;
        };
        const peerNote = 'the peer after its imports';
        const srow = (id: string, what: string, ours: Series, peer: number[], target: string, min: number | null): ERow => ({ ...rowFor(id, what, ours, warmPeer(peer), target, min), peerRss: '—' });
        rows.push(srow(`ES1 ${label(cells)}`, `${size}: service import + concat (${peerNote})`, serviceSeries((t) => t.import! + t.concat!), s.peerWarm.e1, '(none)', null));
        thresholds.forEach((t, i) => rows.push(srow(`ES2 ${label(cells)}/${label(t.cells)}`, `${size}: service export of ${t.cells.toLocaleString('en-US')} cells (${peerNote})`, serviceSeries((x) => x[`query ${label(t.cells)}`]!), s.peerWarm.query[i]!, '(none)', null)));
        rows.push(srow(`ES PCA ${label(cells)}`, `${size}: service PCA (${peerNote})`, serviceSeries((t) => t.pca!), s.peerWarm.pca, '(none)', null));
        rows.push(srow(`ES append ${label(cells)}`, `${size}: service append (${peerNote})`, serviceSeries((t) => t.append!), s.peerWarm.append, '(none)', null));
      }
    }
    rmSync(work, { recursive: true, force: true });
  }

  // E3: fixed costs, medians of startupRuns runs each.
  if (options.only.has('E3')) {
    log('E3: start-up ...');
    const home = join(scratch, 'e3-home');
    rmSync(home, { recursive: true, force: true });
    // inspect reads the first 5,000-cell file, whatever sizes ran.
    smallFile = (await dataFor(options, DEFAULT_E2E_CELLS[0]!)).files[0];
    // A home with one imported file, so `list` has something to list.
    await timer.cellar(['import', smallFile, '--collection', 'c', '--home', home]);
    const startup = async (id: string, what: string, target: number | null, command: () => Promise<Sample>): Promise<void> => {
      const series = new Series();
      await command(); // warm-up, not counted (file cache)
      for (let i = 0; i < options.startupRuns; i++) series.add(await command());
      const row = rowFor(id, what, series, undefined, target === null ? '(none)' : `ours ≤ ${seconds(target)}`, null);
      row.verdict = target === null ? '—' : series.median <= target ? 'pass' : 'fail';
      rows.push(row);
      raw[id] = series;
    };
    await startup('E3 help', '`cellar --help`', 0.15, () => timer.cellar(['--help']));
    await startup('E3 list', '`cellar list` (a home with one file)', 0.3, () => timer.cellar(['list', '--home', home]));
    await startup('E3 inspect', '`cellar inspect` of a 5,000-cell file', 0.2, () => timer.cellar(['inspect', smallFile]));
    // A job's worker: the built task worker started again and again in one process (worker-start.mjs).
    const w = await runCapture(process.execPath, [join(options.repo, 'tests/bench/worker-start.mjs'), String(options.startupRuns), smallFile], options.repo);
    const line = w.stdout.trim().split('\n').pop() ?? '';
    if (w.code !== 0 || !line.startsWith('{')) notes.push(`E3 worker: worker-start.mjs failed (exit ${w.code}): ${w.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    else {
      const starts = JSON.parse(line) as { online: number[]; ready: number[]; inspect: number[] };
      raw['E3 worker'] = starts;
      const workerRow = (id: string, what: string, values: number[], target: number | null): void => {
        const series = new Series();
        for (const v of values) series.add({ seconds: v, peak_rss_bytes: 0 });
        rows.push({ ...rowFor(id, what, series, undefined, target === null ? '(none)' : `ours ≤ ${seconds(target)}`, null), oursRss: '—', verdict: target === null ? '—' : series.median <= target ? 'pass' : 'fail' });
      };
      workerRow('E3 worker', 'a job\'s worker ready (built task worker, in a running process)', starts.ready, 0.1);
      workerRow('E3 worker inspect', 'the same worker: ready + h5wasm + inspect of the 5,000-cell file', starts.inspect, null);
    }
    await startup('E3 node', '`node -e 0` (the floor of any Node command)', null, () => timer.run(process.execPath, ['-e', '0']));
    await startup('E3 peer', '`python3 -c "import anndata"` (the peer\'s floor)', null, () => timer.peer(PEER_SNIPPETS.importOnly, []));
    rmSync(home, { recursive: true, force: true });
  }
  if (existsSync(scratch)) rmSync(scratch, { recursive: true, force: true });
  return { rows, notes, raw };
}
