// `npm run bench [-- --scale S] [--only B1,B4] [--data DIR]`: the SPEC §8 benchmarks.
// Generates the data (generate.py), runs the peer (peer.py: anndata 0.8 / scipy) and our side
// (our-step.ts -> ours.ts), each step in its own process so peak RSS is per step, then prints
// the table and writes test-output/bench.json. See docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_E2E_CELLS, E_IDS, E_OPT_IN, runEndToEnd, type EId } from './e2e';
import { runScaleRows } from './scale-rows';
import { absColumnCorrelation, readNpyMatrix } from './npy';
import type { IngestResult, OurStore } from './ours';
import { parseStepReport, type StepName, type StepReport, type StepRequests, type StepSuccess } from './protocol';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PYTHON = '/usr/bin/python3';
const BENCH_IDS = ['B1', 'B1gz', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B9'] as const;
type BenchId = (typeof BENCH_IDS)[number];

// B3's filter, one definition for both sides.
const FILTER_CELL_TYPES = ['ct_03', 'ct_11', 'ct_24'];
const FILTER_PCT_MITO_BELOW = 5;
const VALUE_FILTER = `cell_type in [${FILTER_CELL_TYPES.map((t) => `'${t}'`).join(', ')}] and pct_mito < ${FILTER_PCT_MITO_BELOW.toFixed(1)}`;
const FILTER_REPEATS = 21;
const ROWS_REPEATS = 3;
const B4_FULL_SCALE_CELLS = [2_500, 20_000, 100_000];
const B4_SEED = 4;
const PCA_GENES = 2_000;
const PCA_COMPONENTS = 50;
const PCA_SEED = 0;
const PCA_COMPARED = 10;
// B8: this many cells (at scale 1, of 200,000; the same share at other scales) against the rest.
const DE_GROUP_SHARE = 10_000 / 200_000;
const GB = 1e9;

interface Options {
  scale: number;
  only: Set<BenchId>;
  dataDir: string;
  /** End-to-end rows (e2e.ts) and their sizes (cells per file) and runs. */
  e2e: Set<EId>;
  e2eCells: number[];
  e2eRuns: number;
}

interface DataParams {
  scale: number;
  n_cells: number;
  n_genes: number;
  nnz_per_cell: number;
  n_new_genes: number;
  concat_files: string[];
  append_file: string;
  gzip_files: string[];
  b5_genes: string[];
  nnz: Record<string, number>;
}

/** One line of peer output: peer.py prints snake_case JSON. */
interface PeerReport {
  seconds: number;
  peak_rss_bytes: number;
  [detail: string]: unknown;
}

type Verdict = 'pass' | 'fail' | '—';

interface Row {
  id: string;
  what: string;
  ours: string;
  peer: string;
  ratio: string;
  target: string;
  oursRss: string;
  peerRss: string;
  verdict: Verdict;
}

function parseOptions(argv: string[]): Options {
  let scale = 1;
  let only: Set<BenchId> = new Set(BENCH_IDS);
  let e2e: Set<EId> = new Set(E_IDS);
  let e2eCells = DEFAULT_E2E_CELLS;
  let e2eRuns = 3;
  let dataDir: string | undefined;
  let scaleGiven = false;
  let onlyGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--scale') {
      scaleGiven = true;
      scale = Number(value());
      if (!(scale > 0)) throw new Error(`--scale must be a number > 0`);
    } else if (flag === '--only') {
      // "E" alone stands for every end-to-end row.
      const wanted = value().split(',').map((s) => s.trim()).filter(Boolean).flatMap((w) => (w.toLowerCase() === 'e' ? [...E_IDS] : [w]));
      const known = [...BENCH_IDS, ...E_IDS, ...E_OPT_IN];
      const unknown = wanted.filter((w) => !known.some((id) => id.toLowerCase() === w.toLowerCase()));
      if (unknown.length) throw new Error(`--only: unknown benchmark ${unknown.join(', ')}; known: ${known.join(', ')} (E = all E rows)`);
      only = new Set(BENCH_IDS.filter((id) => wanted.some((w) => w.toLowerCase() === id.toLowerCase())));
      e2e = new Set([...E_IDS, ...E_OPT_IN].filter((id) => wanted.some((w) => w.toLowerCase() === id.toLowerCase())));
      onlyGiven = true;
    } else if (flag === '--e2e-cells') {
      e2eCells = value().split(',').map((c) => Number(c.replace(/_/g, '')));
      if (e2eCells.some((c) => !Number.isInteger(c) || c < 100)) throw new Error('--e2e-cells takes cells per file, e.g. 5000,12500');
    } else if (flag === '--e2e-runs') {
      e2eRuns = Number(value());
      if (!Number.isInteger(e2eRuns) || e2eRuns < 1) throw new Error('--e2e-runs must be an integer ≥ 1');
    } else if (flag === '--data') {
      dataDir = resolve(value());
    } else {
      throw new Error(`unknown option ${argv[i]}; usage: npm run bench -- [--scale S] [--only B1,B4,E1,E2,E3,ES,E4,E5] [--e2e-cells 5000,12500,50000] [--e2e-runs N] [--data DIR]`);
    }
  }
  // A run at another scale is a run of the B rows: the E rows have their own sizes (--e2e-cells).
  if (scaleGiven && !onlyGiven) e2e = new Set();
  return { scale, only, dataDir: dataDir ?? join(REPO, 'bench-data', `scale-${scale}`), e2e, e2eCells, e2eRuns };
}

/** Runs a child with stderr passed through; resolves with its exit code and stdout. */
function runChild(command: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout }));
  });
}

// Both sides run in the environment the bench was started with: nothing is set for one side only
// (numpy/scipy keep the machine's OpenBLAS settings; see docs/benchmarks.md).
async function runPeer(command: string, args: string[]): Promise<PeerReport> {
  const { code, stdout } = await runChild(PYTHON, [join(REPO, 'tests/bench/peer.py'), command, ...args]);
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`peer ${command} failed (exit ${code})`);
  return JSON.parse(line) as PeerReport;
}

async function runOurs<K extends StepName>(step: K, request: StepRequests[K]): Promise<StepReport> {
  const args = ['--expose-gc', '--import', 'tsx', join(REPO, 'tests/bench/our-step.ts'), step, JSON.stringify(request)];
  const { code, stdout } = await runChild(process.execPath, args);
  return parseStepReport(stdout) ?? { ok: false, error: `our step ${step} printed no result (exit ${code})`, notImplemented: false, peakRssBytes: 0 };
}

function folderBytes(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + folderBytes(join(path, name)), 0);
}

// ---- formatting -------------------------------------------------------------------------

function seconds(s: number): string {
  if (s < 1e-3) return `${(s * 1e6).toPrecision(3)} µs`;
  return s < 1 ? `${(s * 1000).toPrecision(3)} ms` : `${s.toPrecision(3)} s`;
}
function bytes(b: number): string {
  return b >= GB ? `${(b / GB).toFixed(2)} GB` : `${(b / 1e6).toFixed(0)} MB`;
}
function rate(nnzPerSecond: number): string {
  return `${(nnzPerSecond / 1e6).toPrecision(3)} M nnz/s`;
}
function times(ratio: number): string {
  return ratio >= 1000 ? `${Math.round(ratio)}×` : `${ratio.toPrecision(3)}×`;
}

// ---- benchmark bookkeeping ----------------------------------------------------------------

type PeerOutcome = { ok: true; report: PeerReport } | { ok: false; error: string };

class Bench {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];
  readonly raw: Record<string, { ours?: StepReport; peer?: PeerOutcome; extra?: unknown }> = {};

  async peer(id: string, command: string, args: string[]): Promise<PeerOutcome> {
    let outcome: PeerOutcome;
    try {
      outcome = { ok: true, report: await runPeer(command, args) };
    } catch (error) {
      outcome = { ok: false, error: error instanceof Error ? error.message : String(error) };
      this.notes.push(`${id} peer: ${outcome.error}`);
    }
    (this.raw[id] ??= {}).peer = outcome;
    return outcome;
  }

  ours(id: string, report: StepReport): StepReport {
    (this.raw[id] ??= {}).ours = report;
    if (!report.ok && !report.notImplemented) this.notes.push(`${id} ours: ${report.error}`);
    return report;
  }

  /** The "ours" cell for a step that did not succeed: never a number. */
  static failed(report: StepReport): string {
    return report.ok ? '' : report.notImplemented ? 'not implemented' : 'error';
  }

  add(row: Row): void {
    this.rows.push(row);
  }
}

function peerCell(outcome: PeerOutcome, render: (r: PeerReport) => string): string {
  return outcome.ok ? render(outcome.report) : 'error';
}
function peerRss(outcome: PeerOutcome): string {
  return outcome.ok ? bytes(outcome.report.peak_rss_bytes) : '—';
}
function oursRss(report: StepReport): string {
  return report.ok ? bytes(report.peakRssBytes) : '—';
}

// ---- main --------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.only.size) await runBenchmarks(options);
  if (options.e2e.size) await runEndToEndRows(options);
}

/** The E rows (e2e.ts): their own table, and test-output/bench-e2e.json. */
async function runEndToEndRows(options: Options): Promise<void> {
  const started = Date.now();
  const load = () => (process.platform === 'linux' ? readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') : 'n/a');
  const loadBefore = load();
  const e2eOptions = { repo: REPO, python: PYTHON, only: options.e2e, cells: options.e2eCells, runs: options.e2eRuns, startupRuns: 9, dataRoot: join(REPO, 'bench-data') };
  const outcome = await runEndToEnd(e2eOptions, (line) => console.error(line));
  const scaleRows = await runScaleRows(e2eOptions, (line) => console.error(line));
  outcome.rows.push(...scaleRows.rows);
  outcome.notes.push(...scaleRows.notes);
  Object.assign(outcome.raw, scaleRows.raw);
  const elapsed = (Date.now() - started) / 1000;
  console.log(`\nCellar end-to-end — the CLI (node bin/cellar.mjs, one process per command) vs anndata (python3 -c, imports included); medians of ${options.e2eRuns} runs (min–max); ${cpus().length} cores; node ${process.version}; load average ${loadBefore} at the start, ${load()} at the end`);
  console.log(formatTable(outcome.rows as Row[]));
  for (const note of outcome.notes) console.log(`- ${note}`);
  console.log(`\nTotal ${seconds(elapsed)}. Details: test-output/bench-e2e.json`);
  mkdirSync(join(REPO, 'test-output'), { recursive: true });
  writeFileSync(join(REPO, 'test-output', 'bench-e2e.json'), JSON.stringify({ date: new Date().toISOString(), cells: options.e2eCells, runs: options.e2eRuns, machine: { cpus: cpus().length, node: process.version, loadBefore, loadAfter: load() }, rows: outcome.rows, notes: outcome.notes, raw: outcome.raw, seconds: elapsed }, null, 2));
}

async function runBenchmarks(options: Options): Promise<void> {
  const started = Date.now();
  const { only, dataDir } = options;
  const wantsGzip = only.has('B1gz');

  console.error(`Generating data (scale ${options.scale}) in ${dataDir} ...`);
  const generated = await runChild(PYTHON, [join(REPO, 'tests/bench/generate.py'), '--scale', String(options.scale), '--out', dataDir, ...(wantsGzip ? ['--gzip'] : [])]);
  if (generated.code !== 0) throw new Error(`generate.py failed (exit ${generated.code})`);
  const params = JSON.parse(readFileSync(join(dataDir, 'params.json'), 'utf8')) as DataParams;
  const inputs = params.concat_files.map((f) => join(dataDir, f));
  const gzipInputs = params.gzip_files.map((f) => join(dataDir, f));
  const appendInput = join(dataDir, params.append_file);
  const nObsTotal = params.n_cells * inputs.length;
  const nnzTotal = params.concat_files.reduce((s, f) => s + params.nnz[f], 0);

  // Outputs of earlier runs are reused only while they were made from this very data.
  const work = join(dataDir, 'work');
  const fingerprint = JSON.stringify(params);
  const fingerprintPath = join(work, 'data-fingerprint.json');
  if (!existsSync(fingerprintPath) || readFileSync(fingerprintPath, 'utf8') !== fingerprint) {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    writeFileSync(fingerprintPath, fingerprint);
  }

  const bench = new Bench();
  const peerConcatPath = join(work, 'peer-concat.h5ad');
  const ourStorePath = join(work, 'ours-b1.json');

  let ourStore: StepReport | undefined;
  const runOurConcat = async (files: string[], homeName: string): Promise<StepReport> => {
    const home = join(work, homeName);
    rmSync(home, { recursive: true, force: true });
    return runOurs('b1', { files, home });
  };

  // B1 --------------------------------------------------------------------------------------
  if (only.has('B1')) {
    console.error('B1: concatenate 4 files ...');
    const peer = await bench.peer('B1', 'concat', ['--out', peerConcatPath, ...inputs]);
    const ours = bench.ours('B1', await runOurConcat(inputs, 'ours-b1'));
    rmSync(ourStorePath, { force: true });
    if (ours.ok) writeFileSync(ourStorePath, JSON.stringify(ours));
    ourStore = ours;
    bench.add(concatRow(bench, 'B1', 'import + concatenate 4 h5ad → store', ours, peer, nObsTotal, nnzTotal, true));
  }
  if (only.has('B1gz')) {
    console.error('B1gz: concatenate 4 gzip-compressed files ...');
    const gzipOut = join(work, 'peer-concat-gz.h5ad');
    const peer = await bench.peer('B1gz', 'concat', ['--out', gzipOut, ...gzipInputs]);
    rmSync(gzipOut, { force: true });
    const ours = bench.ours('B1gz', await runOurConcat(gzipInputs, 'ours-b1gz'));
    rmSync(join(work, 'ours-b1gz'), { recursive: true, force: true });
    bench.add(concatRow(bench, 'B1gz', 'the same, gzip-compressed inputs', ours, peer, nObsTotal, nnzTotal, false));
  }

  // Later benchmarks read the B1 outputs; make them when B1 was not part of this run.
  const needsConcat = ['B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B9'].some((id) => only.has(id as BenchId));
  if (needsConcat && !existsSync(peerConcatPath)) {
    console.error('Setup: peer concatenation for B3–B7 ...');
    await runPeer('concat', ['--out', peerConcatPath, ...inputs]);
  }
  if (needsConcat && !ourStore) {
    if (existsSync(ourStorePath)) {
      ourStore = JSON.parse(readFileSync(ourStorePath, 'utf8')) as StepReport;
    } else {
      console.error('Setup: our concatenation for B3–B7 ...');
      ourStore = await runOurConcat(inputs, 'ours-b1');
      if (ourStore.ok) writeFileSync(ourStorePath, JSON.stringify(ourStore));
    }
  }
  // A step that needs our store reports the store's failure as its own.
  const withStore = async (run: (store: OurStore) => Promise<StepReport>): Promise<StepReport> => {
    if (!ourStore?.ok) {
      const failure = ourStore && !ourStore.ok ? ourStore : undefined;
      return { ok: false, error: `needs our B1 store: ${failure?.error ?? 'missing'}`, notImplemented: failure?.notImplemented ?? false, peakRssBytes: 0 };
    }
    return run((ourStore as unknown as IngestResult).store);
  };

  // B3 --------------------------------------------------------------------------------------
  if (only.has('B3')) {
    console.error('B3: open + obs filter ...');
    const peerOpen = await bench.peer('B3 open', 'backed_open', [peerConcatPath]);
    const peerFilter = await bench.peer('B3 filter', 'obs_filter', [peerConcatPath, '--repeats', String(FILTER_REPEATS), '--cell-types', FILTER_CELL_TYPES.join(','), '--pct-mito-below', String(FILTER_PCT_MITO_BELOW)]);
    const ours = bench.ours('B3', await withStore((store) => runOurs('b3', { store, valueFilter: VALUE_FILTER, repeats: FILTER_REPEATS })));
    const openSeconds = ours.ok ? (ours.openSeconds as number) : NaN;
    bench.add({
      id: 'B3 open',
      what: 'open the 4-file store/h5ad in a fresh process',
      ours: ours.ok ? seconds(openSeconds) : Bench.failed(ours),
      peer: peerCell(peerOpen, (r) => seconds(r.seconds)),
      ratio: ours.ok && peerOpen.ok ? times(peerOpen.report.seconds / openSeconds) : '—',
      target: 'ours ≤ 100 ms',
      oursRss: oursRss(ours),
      peerRss: peerRss(peerOpen),
      verdict: ours.ok ? (openSeconds <= 0.1 ? 'pass' : 'fail') : '—',
    });
    let filterVerdict: Verdict = '—';
    if (ours.ok) bench.notes.push(`B3: our first (cold) filter call, which decodes the obs columns it reads, took ${seconds(ours.firstFilterSeconds as number)}; open + first filter ${seconds(openSeconds + (ours.firstFilterSeconds as number))}`);
    if (ours.ok) {
      filterVerdict = (ours.filterSeconds as number) <= 0.005 ? 'pass' : 'fail';
      if (peerFilter.ok && (ours.nMatched !== peerFilter.report.n_matched || ours.matchedChecksum !== peerFilter.report.matched_checksum)) {
        bench.notes.push(`B3 filter: ours matched ${String(ours.nMatched)} cells, the peer ${String(peerFilter.report.n_matched)} (or the joinids differ)`);
        filterVerdict = 'fail';
      }
    }
    bench.add({
      id: 'B3 filter',
      what: `obs filter → joinids (${nObsTotal.toLocaleString('en-US')} cells), warm median`,
      ours: ours.ok ? seconds(ours.filterSeconds as number) : Bench.failed(ours),
      peer: peerCell(peerFilter, (r) => seconds(r.seconds)),
      ratio: ours.ok && peerFilter.ok ? times(peerFilter.report.seconds / (ours.filterSeconds as number)) : '—',
      target: 'ours ≤ 5 ms',
      oursRss: oursRss(ours),
      peerRss: peerRss(peerFilter),
      verdict: filterVerdict,
    });
  }

  // B4 --------------------------------------------------------------------------------------
  if (only.has('B4')) {
    console.error('B4: X rows for random cells ...');
    const sizes = B4_FULL_SCALE_CELLS.map((n) => Math.min(nObsTotal, Math.max(1, Math.round(n * options.scale))));
    const cellsPath = join(work, 'b4-cells.json');
    writeFileSync(cellsPath, JSON.stringify(sizes.map((n, i) => Array.from(randomSortedSample(nObsTotal, n, B4_SEED + i)))));
    const peer = await bench.peer('B4', 'rows', [peerConcatPath, '--cells', cellsPath, '--repeats', String(ROWS_REPEATS)]);
    const ours = bench.ours('B4', await withStore((store) => runOurs('b4', { store, cellsPath, repeats: ROWS_REPEATS })));
    if (ours.ok) {
      const first = (ours.sizes as { nCells: number; nnz: number; firstSeconds: number }[]).map((s) => `${s.nCells.toLocaleString('en-US')} cells ${rate(s.nnz / s.firstSeconds)}`);
      bench.notes.push(`B4: our first call of each size, into output memory no earlier call touched: ${first.join(', ')}`);
    }
    sizes.forEach((n, i) => {
      const peerSize = peer.ok ? (peer.report.sizes as { nnz: number; nnz_per_second: number }[])[i] : undefined;
      const ourSize = ours.ok ? (ours.sizes as { nnz: number; nnzPerSecond: number; seconds: number }[])[i] : undefined;
      const absolute = i > 0; // the 100 M nnz/s floor applies at 20k and 100k cells
      let verdict: Verdict = '—';
      if (ourSize && peerSize) {
        verdict = ourSize.nnzPerSecond >= 5 * peerSize.nnz_per_second && (!absolute || ourSize.nnzPerSecond >= 1e8) ? 'pass' : 'fail';
        if (ourSize.nnz !== peerSize.nnz) {
          bench.notes.push(`B4 ${n} cells: ours returned ${ourSize.nnz} non-zeros, the peer ${peerSize.nnz}`);
          verdict = 'fail';
        }
      }
      bench.add({
        id: `B4 ${label(B4_FULL_SCALE_CELLS[i])}`,
        what: `X rows of ${n.toLocaleString('en-US')} random cells → CSR`,
        ours: ourSize ? `${rate(ourSize.nnzPerSecond)} (${seconds(ourSize.seconds)})` : ours.ok ? 'error' : Bench.failed(ours),
        peer: peerSize ? rate(peerSize.nnz_per_second) : 'error',
        ratio: ourSize && peerSize ? times(ourSize.nnzPerSecond / peerSize.nnz_per_second) : '—',
        target: absolute ? '≥ 5× and ≥ 100 M nnz/s' : '≥ 5×',
        oursRss: oursRss(ours),
        peerRss: peerRss(peer),
        verdict,
      });
    });
  }

  // B5 --------------------------------------------------------------------------------------
  if (only.has('B5')) {
    console.error('B5: X columns for 10 genes ...');
    const peer = await bench.peer('B5', 'cols', ['--genes', params.b5_genes.join(','), ...inputs]);
    const ours = bench.ours('B5', await withStore((store) => runOurs('b5', { store, varIds: params.b5_genes })));
    let verdict: Verdict = '—';
    if (ours.ok && peer.ok) {
      verdict = peer.report.seconds / ours.seconds >= 10 ? 'pass' : 'fail';
      if (ours.nnz !== peer.report.nnz) {
        bench.notes.push(`B5: ours returned ${String(ours.nnz)} non-zeros, the peer ${String(peer.report.nnz)}`);
        verdict = 'fail';
      }
    }
    bench.add({
      id: 'B5',
      what: `X columns, 10 genes × ${nObsTotal.toLocaleString('en-US')} cells`,
      ours: ours.ok ? seconds(ours.seconds) : Bench.failed(ours),
      peer: peerCell(peer, (r) => `${seconds(r.seconds)} (4 files)`),
      ratio: ours.ok && peer.ok ? times(peer.report.seconds / ours.seconds) : '—',
      target: '≥ 10×',
      oursRss: oursRss(ours),
      peerRss: peerRss(peer),
      verdict,
    });
  }

  // B6 --------------------------------------------------------------------------------------
  if (only.has('B6')) {
    console.error('B6: PCA ...');
    const genesPath = join(work, 'pca-genes.json');
    const peerScores = join(work, 'peer-pca-top10.npy');
    const ourScores = join(work, 'ours-pca-top10.npy');
    rmSync(ourScores, { force: true });
    const peer = await bench.peer('B6', 'pca', [peerConcatPath, '--n-genes', String(PCA_GENES), '--components', String(PCA_COMPONENTS), '--keep', String(PCA_COMPARED), '--genes-out', genesPath, '--scores-out', peerScores]);
    const ours = bench.ours('B6', peer.ok
      ? await withStore((store) => runOurs('b6', { store, varIds: JSON.parse(readFileSync(genesPath, 'utf8')) as string[], nComponents: PCA_COMPONENTS, seed: PCA_SEED, keep: PCA_COMPARED, scoresOut: ourScores }))
      : { ok: false, error: 'needs the peer gene selection', notImplemented: false, peakRssBytes: 0 });
    const nGenes = Math.min(PCA_GENES, params.n_genes);
    bench.add({
      id: 'B6',
      what: `PCA ${nObsTotal.toLocaleString('en-US')} cells × ${nGenes.toLocaleString('en-US')} genes, ${PCA_COMPONENTS} PCs`,
      ours: ours.ok ? seconds(ours.seconds) : Bench.failed(ours),
      peer: peerCell(peer, (r) => seconds(r.seconds)),
      ratio: ours.ok && peer.ok ? times(peer.report.seconds / ours.seconds) : '—',
      target: '≥ 2×',
      oursRss: oursRss(ours),
      peerRss: peerRss(peer),
      verdict: ours.ok && peer.ok ? (peer.report.seconds / ours.seconds >= 2 ? 'pass' : 'fail') : '—',
    });
    let accuracy = '—';
    let accuracyVerdict: Verdict = '—';
    if (ours.ok && peer.ok) {
      const a = readNpyMatrix(ourScores);
      const b = readNpyMatrix(peerScores);
      const k = Math.min(a.cols, b.cols, PCA_COMPARED);
      const correlations = Array.from({ length: k }, (_, j) => absColumnCorrelation(a, b, j));
      const worst = Math.min(...correlations);
      accuracy = `min corr ${worst.toFixed(4)}`;
      accuracyVerdict = worst >= 0.99 && k === PCA_COMPARED ? 'pass' : 'fail';
      (bench.raw.B6 ??= {}).extra = { absCorrelations: correlations };
      bench.notes.push(`B6 abs Pearson per PC (ours vs peer): ${correlations.map((c) => c.toFixed(4)).join(' ')}`);
    }
    bench.add({
      id: 'B6 acc',
      what: `top ${PCA_COMPARED} PC scores vs the peer's, abs Pearson`,
      ours: ours.ok ? accuracy : Bench.failed(ours),
      peer: peer.ok ? 'reference' : 'error',
      ratio: '—',
      target: 'every PC corr ≥ 0.99',
      oursRss: '—',
      peerRss: '—',
      verdict: accuracyVerdict,
    });
  }

  // B7 --------------------------------------------------------------------------------------
  if (only.has('B7')) {
    const peer = await bench.peer('B7', 'bytes', [peerConcatPath]);
    const ours = bench.ours('B7', await withStore((store) => runOurs('b7', { store })));
    const ourBpn = ours.ok ? (ours.bytesPerNnz as number) : NaN;
    bench.add({
      id: 'B7',
      what: 'bytes per stored non-zero (store folder only)',
      ours: ours.ok ? `${ourBpn.toFixed(2)} B/nnz` : Bench.failed(ours),
      peer: peerCell(peer, (r) => `${(r.bytes_per_nnz as number).toFixed(2)} B/nnz`),
      ratio: ours.ok && peer.ok ? times((peer.report.bytes_per_nnz as number) / ourBpn) : '—',
      target: 'ours ≤ 3 B/nnz',
      oursRss: '—',
      peerRss: '—',
      verdict: ours.ok ? (ourBpn <= 3 ? 'pass' : 'fail') : '—',
    });
  }

  // B8 --------------------------------------------------------------------------------------
  if (only.has('B8')) {
    console.error('B8: differential expression ...');
    const groupCells = Math.round(nObsTotal * DE_GROUP_SHARE);
    const peerPvals = join(work, 'peer-de-pvals.json');
    const ourPvals = join(work, 'ours-de-pvals.json');
    rmSync(ourPvals, { force: true });
    const peer = await bench.peer('B8', 'de', [peerConcatPath, '--group-cells', String(groupCells), '--pvals-out', peerPvals]);
    // The group: the cells of highest pct_mito, cut where the peer found the threshold.
    const ours = bench.ours('B8', peer.ok
      ? await withStore((store) => runOurs('b8', { store, obsFilter: `pct_mito > ${String(peer.report.threshold)}`, pvalsOut: ourPvals }))
      : { ok: false, error: 'needs the peer threshold', notImplemented: false, peakRssBytes: 0 });
    const what = `DE ${groupCells.toLocaleString('en-US')} vs ${(nObsTotal - groupCells).toLocaleString('en-US')} cells × ${params.n_genes.toLocaleString('en-US')} genes`;
    if (ours.ok && ours.nIn !== groupCells) bench.notes.push(`B8: our group has ${String(ours.nIn)} cells, expected ${groupCells}`);
    for (const [id, method, oursSeconds, peerSeconds] of [
      ['B8', 'wilcoxon', ours.ok ? ours.seconds : NaN, peer.ok ? peer.report.seconds : NaN],
      ['B8 t', 'ttest', ours.ok ? (ours.ttestSeconds as number) : NaN, peer.ok ? (peer.report.ttest_seconds as number) : NaN],
    ] as const) {
      let accuracy = '';
      if (ours.ok && peer.ok) {
        const mine = (JSON.parse(readFileSync(ourPvals, 'utf8')) as Record<string, Record<string, number>>)[method]!;
        const theirs = (JSON.parse(readFileSync(peerPvals, 'utf8')) as Record<string, Record<string, number>>)[method]!;
        let worst = 0;
        for (const [gene, p] of Object.entries(theirs)) if (p > 1e-300) worst = Math.max(worst, Math.abs(mine[gene]! - p) / p);
        accuracy = `; largest relative p-value difference from SciPy over ${Object.keys(theirs).length} genes: ${worst.toExponential(1)}`;
      }
      const sampled = peer.ok ? (peer.report[`${method}_genes_tested`] as number) : params.n_genes;
      const estimate = sampled < params.n_genes ? ` (scaled from ${sampled.toLocaleString('en-US')} evenly spaced genes)` : '';
      if (peer.ok) bench.notes.push(`${id}: the peer read + normalised in ${seconds((peer.report.read_seconds as number) + (peer.report.normalise_seconds as number))}, tested in ${seconds(peer.report[`${method}_test_seconds`] as number)}${estimate}${accuracy}`);
      bench.add({
        id,
        what: `${what}, ${method === 'wilcoxon' ? 'Wilcoxon' : 'Welch t'}`,
        ours: ours.ok ? seconds(oursSeconds) : Bench.failed(ours),
        peer: peerCell(peer, () => `${seconds(peerSeconds)}${estimate ? ' (est.)' : ''}`),
        ratio: ours.ok && peer.ok ? times(peerSeconds / oursSeconds) : '—',
        target: '(none)',
        oursRss: oursRss(ours),
        peerRss: peerRss(peer),
        verdict: '—',
      });
    }
  }

  // B9 --------------------------------------------------------------------------------------
  if (only.has('B9')) {
    console.error('B9: neighbours, clusters and UMAP ...');
    // Both sides work on the same embedding: the peer's top PCs (B6's, made here when B6 did not run).
    const genesPath = join(work, 'pca-genes.json');
    const peerScores = join(work, 'peer-pca-top10.npy');
    if (!existsSync(peerScores)) {
      await runPeer('pca', [peerConcatPath, '--n-genes', String(PCA_GENES), '--components', String(PCA_COMPONENTS), '--keep', String(PCA_COMPARED), '--genes-out', genesPath, '--scores-out', peerScores]);
    }
    const membership = join(work, 'ours-leiden.i32');
    rmSync(membership, { force: true });
    const ours = bench.ours('B9', await withStore((store) => runOurs('b9', { store, embedding: peerScores, membershipOut: membership })));
    const peer = await bench.peer('B9', 'graph', [peerScores, ...(ours.ok ? ['--ours-membership', membership] : [])]);
    if (ours.ok) bench.notes.push(`B9 ours: neighbours ${seconds(ours.neighborsSeconds as number)}, Leiden ${seconds(ours.clusterSeconds as number)} (${String(ours.nClusters)} clusters), UMAP ${seconds(ours.umapSeconds as number)}; each step a new store version`);
    if (peer.ok) bench.notes.push(`B9 peer: pynndescent ${seconds(peer.report.knn_seconds as number)} (numba compile included), fuzzy weights + leidenalg ${seconds(peer.report.leiden_seconds as number)} (${String(peer.report.n_clusters)} clusters)${peer.report.ari_with_ours === undefined ? '' : `; ARI with our clusters (each on its own kNN graph) ${(peer.report.ari_with_ours as number).toFixed(4)}`}, with itself at another seed ${(peer.report.ari_with_itself_seed1 as number).toFixed(4)}; no UMAP (umap-learn is not in Debian)`);
    const oursGraph = ours.ok ? (ours.neighborsSeconds as number) + (ours.clusterSeconds as number) : NaN;
    bench.add({
      id: 'B9',
      what: `neighbours + Leiden + UMAP, ${nObsTotal.toLocaleString('en-US')} cells on ${PCA_COMPARED} PCs (peer: kNN + Leiden)`,
      ours: ours.ok ? `${seconds(ours.seconds)} (kNN + Leiden ${seconds(oursGraph)})` : Bench.failed(ours),
      peer: peerCell(peer, (r) => seconds(r.seconds)),
      ratio: ours.ok && peer.ok ? `${times(peer.report.seconds / oursGraph)} (kNN + Leiden)` : '—',
      target: '(none)',
      oursRss: oursRss(ours),
      peerRss: peerRss(peer),
      verdict: '—',
    });
  }

  // B2 (last: it makes its own stores) ------------------------------------------------------
  if (only.has('B2')) {
    console.error('B2: append the 5th file ...');
    const concat5Out = join(work, 'peer-concat5.h5ad');
    const peer = await bench.peer('B2', 'concat5', ['--out', concat5Out, ...inputs, appendInput]);
    rmSync(concat5Out, { force: true });
    const setup = await runOurConcat(inputs, 'ours-b2');
    let append: StepReport = setup.ok
      ? { ok: false, error: 'pending', notImplemented: false, peakRssBytes: 0 }
      : { ...setup, error: `needs a 4-file store: ${setup.error}` };
    let bytesBefore = 0;
    if (setup.ok) {
      const store = (setup as unknown as IngestResult).store;
      bytesBefore = folderBytes(store.dir);
      append = await runOurs('b2', { store, file: appendInput });
    }
    bench.ours('B2', append);
    const appendBytes = append.ok ? folderBytes((append as unknown as IngestResult).store.dir) - bytesBefore : NaN;
    const alone = await runOurConcat([appendInput], 'ours-b2-alone');
    const aloneBytes = alone.ok ? folderBytes((alone as unknown as IngestResult).store.dir) : NaN;
    (bench.raw.B2 ??= {}).extra = { setup, alone, appendBytes, aloneBytes };
    let verdict: Verdict = '—';
    if (append.ok && alone.ok) {
      const timeOk = append.seconds <= 1.25 * alone.seconds;
      const bytesOk = appendBytes <= 1.5 * aloneBytes;
      verdict = timeOk && bytesOk ? 'pass' : 'fail';
      bench.notes.push(`B2: append ${seconds(append.seconds)} vs ingesting the file alone ${seconds(alone.seconds)} (${(append.seconds / alone.seconds).toFixed(2)}×); bytes added ${bytes(appendBytes)} vs ${bytes(aloneBytes)} for the file alone (${(appendBytes / aloneBytes).toFixed(2)}×)`);
      const expectVars = params.n_genes + params.n_new_genes;
      const appended = append as unknown as IngestResult;
      if (appended.nObs !== nObsTotal + params.n_cells || appended.nVars !== expectVars) {
        bench.notes.push(`B2: after append the store has ${appended.nObs} × ${appended.nVars}, expected ${nObsTotal + params.n_cells} × ${expectVars}`);
        verdict = 'fail';
      }
    } else if (!alone.ok && !alone.notImplemented) {
      bench.notes.push(`B2 ours (file alone): ${alone.error}`);
    }
    bench.add({
      id: 'B2',
      what: 'append the 5th file (new genes, new type)',
      ours: append.ok ? seconds(append.seconds) : Bench.failed(append),
      peer: peerCell(peer, (r) => `${seconds(r.seconds)} (concat 5)`),
      ratio: append.ok && peer.ok ? times(peer.report.seconds / append.seconds) : '—',
      target: '≤ 1.25× file alone; bytes ∝ new',
      oursRss: oursRss(append),
      peerRss: peerRss(peer),
      verdict,
    });
  }

  // Report -----------------------------------------------------------------------------------
  const header = `Cellar benchmarks — scale ${options.scale}: ${inputs.length} files × ${params.n_cells.toLocaleString('en-US')} cells × ${params.n_genes.toLocaleString('en-US')} genes, ${nnzTotal.toLocaleString('en-US')} non-zeros (${(nnzTotal / nObsTotal).toFixed(0)} per cell); ${cpus().length} cores; node ${process.version}`;
  console.log(`\n${header}`);
  console.log(formatTable(bench.rows));
  if (options.scale !== 1) console.log('\nTargets are defined at scale 1; at other scales the verdicts are indicative only.');
  for (const note of bench.notes) console.log(`- ${note}`);
  const elapsed = (Date.now() - started) / 1000;
  console.log(`\nTotal ${seconds(elapsed)}. Details: test-output/bench.json`);

  mkdirSync(join(REPO, 'test-output'), { recursive: true });
  writeFileSync(
    join(REPO, 'test-output', 'bench.json'),
    JSON.stringify({ date: new Date().toISOString(), scale: options.scale, dataDir, params: { ...params }, machine: { cpus: cpus().length, node: process.version, openblasCoretype: process.env.OPENBLAS_CORETYPE ?? null }, valueFilter: VALUE_FILTER, rows: bench.rows, notes: bench.notes, raw: bench.raw, seconds: elapsed }, null, 2),
  );
}

function concatRow(bench: Bench, id: string, what: string, ours: StepReport, peer: PeerOutcome, nObs: number, nnz: number, withTarget: boolean): Row {
  let verdict: Verdict = '—';
  if (withTarget && ours.ok && peer.ok) {
    verdict = peer.report.seconds / ours.seconds >= 4 && ours.peakRssBytes <= 1.5 * GB ? 'pass' : 'fail';
  }
  if (ours.ok) {
    const result = ours as StepSuccess & Partial<IngestResult>;
    if (result.nObs !== nObs || result.nnz !== nnz) {
      verdict = 'fail';
      bench.notes.push(`${id}: our store has ${String(result.nObs)} cells and ${String(result.nnz)} non-zeros, expected ${nObs} and ${nnz}`);
    }
  }
  return {
    id,
    what,
    ours: ours.ok ? seconds(ours.seconds) : Bench.failed(ours),
    peer: peerCell(peer, (r) => seconds(r.seconds)),
    ratio: ours.ok && peer.ok ? times(peer.report.seconds / ours.seconds) : '—',
    target: withTarget ? '≥ 4×, peak RSS ≤ 1.5 GB' : '(none)',
    oursRss: oursRss(ours),
    peerRss: peerRss(peer),
    verdict,
  };
}

function label(n: number): string {
  return n >= 1000 ? `${n / 1000}k` : String(n);
}

/** `count` distinct integers in [0, n), ascending; deterministic for a seed (partial Fisher–Yates). */
function randomSortedSample(n: number, count: number, seed: number): Int32Array {
  let state = (seed * 0x9e3779b1) >>> 0 || 1;
  const next = (): number => {
    // xorshift32: small, seedable, plenty for picking cells
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
  const pool = new Int32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(next() * (n - i));
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  return pool.slice(0, count).sort();
}

function formatTable(rows: Row[]): string {
  const columns: [string, keyof Row][] = [
    ['id', 'id'],
    ['what', 'what'],
    ['ours', 'ours'],
    ['peer', 'peer'],
    ['ratio (peer/ours)', 'ratio'],
    ['target', 'target'],
    ['our peak RSS', 'oursRss'],
    ['peer peak RSS', 'peerRss'],
    ['pass/fail', 'verdict'],
  ];
  const widths = columns.map(([title, key]) => Math.max(title.length, ...rows.map((r) => r[key].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(columns.map(([t]) => t)), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map((r) => line(columns.map(([, k]) => r[k])))].join('\n');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
