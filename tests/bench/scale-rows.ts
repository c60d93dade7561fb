// The scale rows of `npm run bench` (SPEC §8 E4, and a file over 2 GiB), run only when named:
// `npm run bench -- --only E4,E5`. They generate tens of gigabytes with generate.py's own
// generator (100,000-cell files of 20,000 genes, ~1,500 non-zeros a cell, as at scale 1) and
// time the CLI as a user runs it, one process per command, peak RSS from the kernel (timed.py).
//   E4: import + concat of two files (200,000 cells) and of ten (1,000,000 cells); the larger
//       must stay within 1.25× of linear from the smaller and under 1.5 GB peak RSS.
//   E5: one 200,000-cell file (300 M non-zeros, ~2.4 GB: over h5wasm's 2 GiB heap) imported,
//       concatenated and exported whole to h5ad; the export is checked with h5py (shape,
//       non-zeros, the sum of every stored value, the first and last cell ids).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bytes, runCapture, seconds, Series, Timer, type EndToEndOptions, type EndToEndOutcome, type ERow } from './e2e';

const GB = 1e9;
const GIB = 2 ** 30;
const CELLS_PER_FILE = 100_000;
const GENES = 20_000;
const E4_FILES = 10;
const E4_BASE_FILES = 2;
const E5_CELLS = 200_000;

interface Generated {
  files: string[];
  nnz: number;
}

async function generate(options: EndToEndOptions, dir: string, files: number, cells: number): Promise<Generated> {
  const args = [join(options.repo, 'tests/bench/generate.py'), '--files', String(files), '--cells-per-file', String(cells), '--genes', String(GENES), '--no-append', '--out', dir];
  const r = await runCapture(options.python, args, options.repo);
  if (r.code !== 0) throw new Error(`generate.py ${args.slice(1).join(' ')} failed: ${r.stderr.trim()}`);
  const params = JSON.parse(readFileSync(join(dir, 'params.json'), 'utf8')) as { concat_files: string[]; nnz: Record<string, number> };
  return { files: params.concat_files.map((f) => join(dir, f)), nnz: params.concat_files.reduce((s, f) => s + params.nnz[f]!, 0) };
}

/** Sizes of the files under `dir`, summed (0 when it does not exist). */
function folderBytes(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else total += statSync(p).size;
    }
  };
  if (existsSync(dir)) walk(dir);
  return total;
}

// The export read back by h5py, in slices: what a reader of the file would find.
const CHECK_EXPORT = `import sys, json, h5py, numpy as np
path = sys.argv[1]
with h5py.File(path, "r") as f:
    x = f["X"]
    data = x["data"]
    total = 0.0
    step = 1 << 24
    for i in range(0, data.shape[0], step):
        total += float(np.asarray(data[i:i + step], dtype=np.float64).sum())
    index = f["obs"][f["obs"].attrs["_index"]]
    print(json.dumps({"shape": [int(v) for v in x.attrs["shape"]], "nnz": int(data.shape[0]), "sum": total,
                      "first": index[0].decode(), "last": index[-1].decode()}))
`;

export async function runScaleRows(options: EndToEndOptions, log: (line: string) => void): Promise<EndToEndOutcome> {
  const rows: ERow[] = [];
  const notes: string[] = [];
  const raw: Record<string, unknown> = {};
  if (!options.only.has('E4') && !options.only.has('E5')) return { rows, notes, raw };
  const scratch = join(options.dataRoot, 'scale-scratch');
  mkdirSync(scratch, { recursive: true });
  const timer = new Timer(options, scratch);
  const row = (id: string, what: string, ours: Series, target: string, verdict: ERow['verdict']): ERow => ({
    id,
    what,
    ours: seconds(ours.median),
    peer: '—',
    ratio: '—',
    target,
    oursRss: bytes(ours.peak),
    peerRss: '—',
    verdict,
  });

  if (options.only.has('E4')) {
    log(`E4: generating ${E4_FILES} × ${CELLS_PER_FILE.toLocaleString('en-US')} cells (reused when present) ...`);
    const data = await generate(options, join(options.dataRoot, 'e4'), E4_FILES, CELLS_PER_FILE);
    const runs: { cells: number; nnz: number; e1: Series; concat: Series; storeBytes: number }[] = [];
    try {
      for (const nFiles of [E4_BASE_FILES, E4_FILES]) {
        const files = data.files.slice(0, nFiles);
        const cells = nFiles * CELLS_PER_FILE;
        log(`E4: import + concat of ${nFiles} files (${cells.toLocaleString('en-US')} cells) ...`);
        const home = join(scratch, `e4-home-${nFiles}`);
        rmSync(home, { recursive: true, force: true });
        const imp = await timer.cellar(['import', ...files, '--collection', 'c', '--home', home]);
        const cat = await timer.cellar(['concat', '--collection', 'c', '--store', 's', '--json', '--home', home]);
        const made = JSON.parse(cat.stdout) as { store?: { n_observations?: number } };
        if (made.store?.n_observations !== cells) throw new Error(`concat of ${nFiles} files made ${String(made.store?.n_observations)} cells, not ${cells}`);
        const e1 = new Series();
        e1.add(imp, cat);
        const concat = new Series();
        concat.add(cat);
        const storeBytes = folderBytes(join(home, 'stores'));
        const nnz = JSON.parse(readFileSync(join(options.dataRoot, 'e4', 'params.json'), 'utf8')) as { nnz: Record<string, number> };
        const runNnz = files.reduce((s, f) => s + nnz.nnz[f.split('/').pop()!]!, 0);
        runs.push({ cells, nnz: runNnz, e1, concat, storeBytes });
        notes.push(`E4 ${cells.toLocaleString('en-US')} cells (${(runNnz / 1e6).toFixed(0)} M non-zeros): import ${seconds(imp.seconds)} (peak ${bytes(imp.peak_rss_bytes)}), concat ${seconds(cat.seconds)} (peak ${bytes(cat.peak_rss_bytes)}, CPU ${seconds(cat.user_seconds + cat.sys_seconds)}), ${(runNnz / 1e6 / cat.seconds).toFixed(1)} M nnz/s; store folders ${bytes(storeBytes)} (${(storeBytes / runNnz).toFixed(2)} B/nnz)`);
        rmSync(home, { recursive: true, force: true });
      }
      const [base, big] = runs as [(typeof runs)[0], (typeof runs)[0]];
      const factor = big.nnz / base.nnz;
      const linearity = big.e1.median / (base.e1.median * factor);
      raw.E4 = { runs: runs.map((r) => ({ cells: r.cells, nnz: r.nnz, e1: r.e1, concat: r.concat, storeBytes: r.storeBytes })), linearity };
      rows.push(row('E4 200k', `${E4_BASE_FILES} × 100,000 cells: cellar import + concat`, base.e1, '(the base)', '—'));
      const pass = linearity <= 1.25 && big.e1.peak <= 1.5 * GB;
      rows.push({ ...row('E4 1M', `${E4_FILES} × 100,000 cells: cellar import + concat (${linearity.toFixed(2)}× linear from 200k)`, big.e1, '≤ 1.25× linear; ≤ 1.5 GB', pass ? 'pass' : 'fail'), ratio: `${linearity.toFixed(2)}× linear` });
    } catch (error) {
      notes.push(`E4: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  if (options.only.has('E5')) {
    log(`E5: generating one ${E5_CELLS.toLocaleString('en-US')}-cell file (reused when present) ...`);
    try {
      const data = await generate(options, join(options.dataRoot, 'e5'), 1, E5_CELLS);
      const file = data.files[0]!;
      const size = statSync(file).size;
      if (size <= 2 * GIB) throw new Error(`the generated file is ${bytes(size)}, not over 2 GiB`);
      const home = join(scratch, 'e5-home');
      const out = join(scratch, 'e5-export.h5ad');
      rmSync(home, { recursive: true, force: true });
      rmSync(out, { force: true });
      const imp = await timer.cellar(['import', file, '--collection', 'c', '--home', home]);
      const cat = await timer.cellar(['concat', '--collection', 'c', '--store', 's', '--json', '--home', home]);
      const exp = await timer.cellar(['query', '--store', 's', '--out', out, '--json', '--home', home]);
      const source = await runCapture(options.python, ['-c', CHECK_EXPORT, file], options.repo);
      const exported = await runCapture(options.python, ['-c', CHECK_EXPORT, out], options.repo);
      if (source.code !== 0 || exported.code !== 0) throw new Error(`reading back with h5py failed: ${source.stderr.trim()} ${exported.stderr.trim()}`);
      const a = JSON.parse(source.stdout) as { shape: number[]; nnz: number; sum: number; first: string; last: string };
      const b = JSON.parse(exported.stdout) as typeof a;
      const same = a.shape.join() === b.shape.join() && a.nnz === b.nnz && a.sum === b.sum && a.first === b.first && a.last === b.last;
      raw.E5 = { fileBytes: size, exportBytes: statSync(out).size, import: imp, concat: cat, export: exp, source: a, exported: b };
      notes.push(`E5: a ${bytes(size)} h5ad (${(data.nnz / 1e6).toFixed(0)} M non-zeros): import ${seconds(imp.seconds)}, concat ${seconds(cat.seconds)} (peak ${bytes(cat.peak_rss_bytes)}), export of every cell ${seconds(exp.seconds)} (peak ${bytes(exp.peak_rss_bytes)}, ${bytes(statSync(out).size)} gzip); read back by h5py: ${same ? 'same shape, non-zeros, value sum and cell ids' : `DIFFERENT — source ${JSON.stringify(a)}, export ${JSON.stringify(b)}`}`);
      const all = new Series();
      all.add(imp, cat, exp);
      rows.push(row('E5', `one ${bytes(size)} h5ad: import + concat + export of every cell`, all, 'works; same values', same ? 'pass' : 'fail'));
      rmSync(home, { recursive: true, force: true });
      rmSync(out, { force: true });
    } catch (error) {
      notes.push(`E5: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  rmSync(scratch, { recursive: true, force: true });
  return { rows, notes, raw };
}
