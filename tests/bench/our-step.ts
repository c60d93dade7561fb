// One benchmark step of our side, alone in its own process so its peak RSS is its own:
//   node --import tsx tests/bench/our-step.ts <step> '<json request>'
// Prints RESULT_PREFIX + JSON (seconds, peakRssBytes, details) as its last stdout line.
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { writeNpyMatrix } from './npy';
import { NOT_IMPLEMENTED, ours, type CsrRows, type Joinids } from './ours';
import { RESULT_PREFIX, type StepName, type StepReport, type StepRequests } from './protocol';

function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function joinidsSum(ids: Joinids): number {
  let sum = 0;
  for (let i = 0; i < ids.length; i++) sum += Number(ids[i]);
  return sum;
}

function csrNnz(rows: CsrRows, expectedRows: number): number {
  if (rows.indptr.length !== expectedRows + 1) {
    throw new Error(`CSR has ${rows.indptr.length - 1} rows, expected ${expectedRows}`);
  }
  if (rows.indices.length !== rows.data.length) throw new Error('CSR indices and data lengths differ');
  return rows.data.length;
}

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { seconds: (performance.now() - start) / 1000, value };
}

const steps: { [K in StepName]: (request: StepRequests[K]) => Promise<Record<string, unknown> & { seconds: number }> } = {
  async b1({ files, home }) {
    const { seconds, value } = await timed(() => ours.b1Concat(files, home));
    return { seconds, ...value };
  },

  async b2({ store, file }) {
    const { seconds, value } = await timed(() => ours.b2Append(store, file));
    return { seconds, ...value };
  },

  async b3({ store, valueFilter, repeats }) {
    const open = await timed(() => ours.b3Open(store));
    const opened = open.value;
    try {
      // Warm-up: the measured calls are warm. Its time (column decoding on first use) is reported apart.
      const first = await timed(() => ours.b3Filter(opened, valueFilter));
      const times: number[] = [];
      let matched: Joinids = [];
      for (let i = 0; i < repeats; i++) {
        const run = await timed(() => ours.b3Filter(opened, valueFilter));
        times.push(run.seconds);
        matched = run.value;
      }
      return {
        seconds: open.seconds,
        openSeconds: open.seconds,
        filterSeconds: median(times),
        filterMinSeconds: Math.min(...times),
        firstFilterSeconds: first.seconds,
        repeats,
        nObs: opened.nObs,
        nMatched: matched.length,
        matchedChecksum: joinidsSum(matched),
      };
    } finally {
      await opened.close();
    }
  },

  async b4({ store, cellsPath, repeats }) {
    const cellSets = JSON.parse(readFileSync(cellsPath, 'utf8')) as number[][];
    const opened = await ours.b3Open(store);
    try {
      const sizes: { nCells: number; seconds: number; firstSeconds: number; nnz: number; nnzPerSecond: number }[] = [];
      for (const cells of cellSets) {
        const joinids = Int32Array.from(cells);
        const times: number[] = [];
        let nnz = 0;
        for (let i = 0; i < repeats; i++) {
          const run = await timed(() => ours.b4Rows(opened, joinids));
          times.push(run.seconds);
          nnz = csrNnz(run.value, joinids.length);
        }
        const seconds = median(times);
        // The first call of each size is reported too: it writes into memory no earlier call touched.
        sizes.push({ nCells: joinids.length, seconds, firstSeconds: times[0], nnz, nnzPerSecond: nnz / seconds });
      }
      return { seconds: sizes.reduce((s, x) => s + x.seconds, 0), repeats, sizes };
    } finally {
      await opened.close();
    }
  },

  async b5({ store, varIds }) {
    // Open is inside the measurement, as the peer's per-file timing includes read_h5ad(backed='r').
    const run = await timed(async () => {
      const opened = await ours.b3Open(store);
      try {
        return await ours.b5Cols(opened, varIds);
      } finally {
        await opened.close();
      }
    });
    return { seconds: run.seconds, nObs: run.value.nObs, nnz: run.value.nnz };
  },

  async b6({ store, varIds, nComponents, seed, keep, scoresOut }) {
    const opened = await ours.b3Open(store);
    try {
      const run = await timed(() => ours.b6Pca(opened, { varIds, nComponents, seed }));
      const { scores, nObs, nComponents: k } = run.value;
      if (scores.length !== nObs * k) throw new Error(`PCA scores have ${scores.length} values, expected ${nObs} x ${k}`);
      const kept = Math.min(keep, k);
      const top = new Float32Array(nObs * kept);
      for (let i = 0; i < nObs; i++) {
        for (let j = 0; j < kept; j++) top[i * kept + j] = scores[i * k + j];
      }
      writeNpyMatrix(scoresOut, { rows: nObs, cols: kept, values: top });
      return { seconds: run.seconds, nObs, nComponents: k };
    } finally {
      await opened.close();
    }
  },

  async b7({ store }) {
    const { bytes, nnz } = await ours.b7StoreBytes(store);
    return { seconds: 0, bytes, nnz, bytesPerNnz: bytes / nnz };
  },

  async b8({ store, obsFilter, pvalsOut }) {
    // Both methods, one after the other, each from the store (nothing kept between them).
    const wilcoxon = await timed(() => ours.b8De(store, obsFilter, 'wilcoxon'));
    const ttest = await timed(() => ours.b8De(store, obsFilter, 't-test'));
    writeFileSync(pvalsOut, JSON.stringify({ wilcoxon: Object.fromEntries(wilcoxon.value.pvals), ttest: Object.fromEntries(ttest.value.pvals) }));
    return { seconds: wilcoxon.seconds, ttestSeconds: ttest.seconds, nIn: wilcoxon.value.nIn, nOut: wilcoxon.value.nOut };
  },

  async b9({ store, embedding, membershipOut }) {
    const r = await ours.b9CellGraph(store, embedding);
    writeFileSync(membershipOut, new Uint8Array(r.membership.buffer, r.membership.byteOffset, r.membership.byteLength));
    return { seconds: r.neighborsSeconds + r.clusterSeconds + r.umapSeconds, neighborsSeconds: r.neighborsSeconds, clusterSeconds: r.clusterSeconds, umapSeconds: r.umapSeconds, nClusters: r.nClusters };
  },
};

async function main(): Promise<void> {
  const [name, json] = process.argv.slice(2);
  let report: StepReport;
  try {
    if (!(name in steps)) throw new Error(`unknown step ${name}; expected one of ${Object.keys(steps).join(', ')}`);
    const request = JSON.parse(json ?? '{}') as never;
    const result = await steps[name as StepName](request);
    report = { ok: true, ...result, peakRssBytes: peakRssBytes() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message !== NOT_IMPLEMENTED && error instanceof Error && error.stack) console.error(error.stack);
    report = { ok: false, error: message, notImplemented: message === NOT_IMPLEMENTED, peakRssBytes: peakRssBytes() };
  }
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(report)}\n`);
  process.exitCode = report.ok ? 0 : 1;
}

void main();
