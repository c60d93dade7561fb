// The desktop service path of the end-to-end rows (docs/benchmarks.md, "End-to-end rows"): the
// service's handlers (src/main/service/handlers.ts, as built for the app and `cellar serve`) in
// this one long-lived process, jobs started and awaited as the app's window does. Plain Node on
// the built JavaScript (out/main), like the app: nothing is compiled at run time.
//
//   node tests/bench/e2e-service.mjs '<request JSON>'
//
// request: { runs, workDir, files: [4 paths], append: path, queries: [{ name, obs }], pca: { nComponents, genes, seed } }
// Each run uses a fresh home (its own service, as a restarted app would have, in the same
// process) and times: import, concatenate, each query's h5ad export, append, PCA (of the 5 files). Prints one
// JSON line: { runs: [{ step: seconds, ... }], peakRssBytes, results }.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const OUT = new URL('../../out/main/', import.meta.url);

/** The built chunk that holds createService (chunk names carry a content hash; exports are minified). */
async function loadCreateService() {
  const dir = OUT.pathname;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
    if (!readFileSync(join(dir, name), 'utf8').includes('function createService(')) continue;
    const mod = await import(new URL(name, OUT).href);
    const fn = Object.values(mod).find((v) => typeof v === 'function' && v.name === 'createService');
    if (fn) return fn;
  }
  throw new Error(`No built createService in ${dir}: run "node scripts/build.mjs".`);
}

const request = JSON.parse(process.argv[2]);
const createService = await loadCreateService();

async function job(service, snapshot) {
  const done = await service.jobs.wait(snapshot.id);
  if (done.state !== 'completed') throw new Error(`${done.title}: ${done.state}: ${done.error?.message ?? ''}`);
  return done.result;
}

async function timed(times, step, work) {
  const t0 = performance.now();
  const result = await work();
  times[step] = (performance.now() - t0) / 1000;
  return result;
}

const runs = [];
const results = {};
for (let run = 0; run < request.runs; run++) {
  const home = join(request.workDir, `service-home-${run}`);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  const files = new Map();
  let exportPath = '';
  const service = createService({ home, mode: 'desktop', version: 'bench', files, chooseSavePath: async () => exportPath });
  const token = (path) => {
    const t = `bench-${files.size}`;
    files.set(t, path);
    return t;
  };
  const h = service.handlers;
  const times = {};
  try {
    const fileTokens = request.files.map(token);
    await timed(times, 'import', async () => job(service, await h['import:start']({ fileTokens, collectionKey: 'c' })));
    await timed(times, 'concat', async () => job(service, await h['concat:start']({ collectionKey: 'c', storeKey: 's' })));
    for (const q of request.queries) {
      exportPath = join(request.workDir, `service-${q.name}.h5ad`);
      rmSync(exportPath, { force: true });
      const r = await timed(times, `query ${q.name}`, async () => job(service, await h['export:start']({ storeKey: 's', version: '1', obs: q.obs, format: 'h5ad' })));
      results[`query ${q.name}`] = { n_obs: r.n_obs, n_vars: r.n_vars };
      rmSync(exportPath, { force: true });
    }
    const appended = await timed(times, 'append', async () => job(service, await h['append:start']({ storeKey: 's', fileTokens: [token(request.append)] })));
    results.append = { n_obs: appended?.store?.n_observations ?? null };
    await timed(times, 'pca', async () => job(service, await h['embed:start']({ storeKey: 's', nComponents: request.pca.nComponents, genes: request.pca.genes, seed: request.pca.seed })));
  } finally {
    service.close();
  }
  rmSync(home, { recursive: true, force: true });
  runs.push(times);
  process.stderr.write(`service run ${run + 1}/${request.runs}: ${Object.entries(times).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')}\n`);
}
console.log(JSON.stringify({ runs, results, peakRssBytes: process.resourceUsage().maxRSS * 1024 }));
