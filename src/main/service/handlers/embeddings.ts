// Embeddings: a PCA started as a job, and the points and colours the scatter plot draws.
import { CellarError } from '../../../shared/errors';
import type { DatasetExpression, GeneColorScale } from '../../../shared/contract';
import { geneValues, logNormalize, readCellTotals, type CellTotals } from '../../engine/ops/gene-color-values';
import { defaultMeasurement } from '../../engine/ops/export';
import { datasetsMeasuring, GeneIndex } from '../../engine/store/genes';
import { stringAt } from '../../engine/columns/conversions';
import type { Column } from '../../engine/columns/column-model';
import type { StoreReader } from '../../engine/store/store-reader';
import type { Handlers } from '../../ipc/handle';
import type { ServiceContext } from './context';
import { datasetsOf, withStoreVersion } from './stores';

/** Cell totals of this many store versions are kept, so recolouring by the next gene is quick. */
const TOTALS_KEPT = 4;

export function embeddingHandlers({ db, startJob }: ServiceContext): Pick<Handlers, 'embed:start' | 'embedding:points' | 'embedding:colors' | 'genes:search'> {
  const totalsByVersion = new Map<string, CellTotals>();
  const cellTotals = (reader: StoreReader, versionUid: string, ms: string): CellTotals => {
    let found = totalsByVersion.get(versionUid);
    if (!found) {
      found = readCellTotals(reader, ms, 'data');
      totalsByVersion.set(versionUid, found);
      if (totalsByVersion.size > TOTALS_KEPT) totalsByVersion.delete(totalsByVersion.keys().next().value!);
    }
    return found;
  };
  return {
    'embed:start': ({ storeKey, nComponents, layer, normalize, genes, seed, name }) =>
      startJob('embed', `PCA of ${storeKey}`, { storeKey, name, pca: { nComponents, layer, normalize, genes, seed } }),
    'embedding:points': (ref) =>
      withStoreVersion(db(), ref, async (reader) => {
        const dense = await reader.readObsm(defaultMeasurement(reader), ref.name);
        const f32 = dense.values instanceof Float32Array ? dense.values : Float32Array.from(dense.values as ArrayLike<number>);
        return { n: dense.shape[0], k: dense.shape[1], values: new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength) };
      }),
    'embedding:colors': (ref) =>
      withStoreVersion(db(), ref, async (reader, record, store) => {
        const { obsColumn, gene } = ref;
        const ms = defaultMeasurement(reader);
        if (gene) {
          const index = GeneIndex.of(reader, ms, `store ${store.key}`);
          const joinid = index.resolve(gene);
          const raw = await geneValues(reader, ms, 'data', joinid);
          // Cells of datasets that never measured the gene are NaN, not 0: absent is not zero.
          const measuring = datasetsMeasuring(reader, ms, [joinid])?.get(joinid) ?? null;
          const notMeasured = measuring ? markNotMeasured(reader, raw, measuring) : null;
          // Log-normalised unless asked otherwise or the layer is not counts (then it is shown as it is).
          const totals = ref.normalize === false ? null : cellTotals(reader, record.uid, ms).totals;
          const values = totals ? logNormalize(raw, totals) : raw;
          let max = 0;
          for (const v of values) if (v > max) max = v;
          const scale: GeneColorScale = totals ? 'log-normalized' : 'as-stored';
          const byDataset = expressionByDataset(reader, raw, measuring);
          const hit = { joinid, id: index.id(joinid), symbol: index.symbol(joinid) };
          const colors = { kind: 'numeric' as const, values: new Uint8Array(values.buffer), min: 0, max, byDataset, gene: hit, scale };
          if (!notMeasured) return colors;
          const keys = (byDataset ?? []).filter((d) => d.measured === false).map((d) => d.key ?? `dataset ${d.position}`);
          const named = hit.symbol && hit.symbol !== hit.id ? `${hit.symbol} (${hit.id})` : hit.id;
          const note = `${keys.join(', ')} did not measure ${named}: ${notMeasured} cell${notMeasured === 1 ? ' is' : 's are'} "not measured" (NaN), not 0.`;
          return { ...colors, notMeasured: { nCells: notMeasured, datasets: keys, note } };
        }
        const column = obsColumn ? reader.obs.column(obsColumn) : undefined;
        if (!column) throw new CellarError('unknown_column', `There is no obs column ${obsColumn ?? ''} in ${store.key}.`);
        // The dataset column holds the files' positions, which are categories, not quantities.
        if (obsColumn === 'dataset' || column.kind === 'category' || column.kind === 'string' || column.kind === 'nullable-string' || column.kind === 'bool' || column.kind === 'nullable-bool') {
          const labels = new Map<string, number>();
          const codes = new Int32Array(reader.nObs);
          // People know the datasets by file name.
          const fileNames = obsColumn === 'dataset' ? new Map(datasetsOf(reader).map((d) => [String(d.position), d.key])) : null;
          for (let i = 0; i < reader.nObs; i++) {
            const value = stringAt(column, i);
            const s = value !== null && fileNames ? (fileNames.get(value) ?? value) : value;
            if (s === null) codes[i] = -1;
            else {
              let c = labels.get(s);
              if (c === undefined) labels.set(s, (c = labels.size));
              codes[i] = c;
            }
          }
          return { kind: 'category' as const, codes: new Uint8Array(codes.buffer), categories: [...labels.keys()] };
        }
        const values = new Float32Array(reader.nObs);
        let min = Infinity;
        let max = -Infinity;
        for (let i = 0; i < reader.nObs; i++) {
          const s = stringAt(column, i);
          const v = s === null ? NaN : Number(s);
          values[i] = v;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        return { kind: 'numeric' as const, values: new Uint8Array(values.buffer), min: Number.isFinite(min) ? min : 0, max: Number.isFinite(max) ? max : 0 };
      }),
    'genes:search': (ref) =>
      withStoreVersion(db(), ref, async (reader, _record, store) => GeneIndex.of(reader, defaultMeasurement(reader), `store ${store.key}`).search(ref.prefix, ref.limit ?? 20)),
  };
}

/** Sets the cells of datasets outside `measuring` to NaN; returns how many. */
function markNotMeasured(reader: StoreReader, values: Float32Array, measuring: Set<number>): number {
  const column = reader.obs.column('dataset');
  if (!column) return 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    if (measuring.has(Number(stringAt(column, i)))) continue;
    values[i] = NaN;
    n++;
  }
  return n;
}

/** Per dataset (obs column "dataset"): how many cells, how many express the gene, the highest value. */
function expressionByDataset(reader: StoreReader, values: Float32Array, measuring: Set<number> | null = null): DatasetExpression[] | undefined {
  const column: Column | undefined = reader.obs.column('dataset');
  if (!column) return undefined;
  const keys = new Map(datasetsOf(reader).map((d) => [d.position, d.key]));
  const groups = new Map<number, DatasetExpression>();
  for (let i = 0; i < values.length; i++) {
    const position = Number(stringAt(column, i));
    let g = groups.get(position);
    if (!g) groups.set(position, (g = { position, key: keys.get(position) ?? null, nCells: 0, nExpressing: 0, max: 0, ...(measuring ? { measured: measuring.has(position) } : {}) }));
    g.nCells++;
    const v = values[i]!;
    if (v > 0) g.nExpressing++;
    if (v > g.max) g.max = v;
  }
  return [...groups.values()].sort((a, b) => a.position - b.position);
}
