// How a store names its genes: look genes up by id or symbol, and change which var column
// holds the symbols (a new version whose manifest says so; no data file is written).
import { CellarError } from '../../../shared/errors';
import type { GeneHit } from '../../../shared/result-types';
import type { Registry } from '../../registry/registry';
import type { GeneNaming } from '../store/format/manifest';
import { GeneIndex, geneNamingOf } from '../store/genes';
import { openStore } from '../store/store-reader';
import { createStoreWriter } from '../store/store-writer';
import { commitStoreVersion } from './commit-version';
import { defaultMeasurement } from './export';
import { resolveVersionRef } from './store-records';
import { resolveStore } from './reconcile';
import { refuseStaleBase } from './versioning';
import type { StoreResultJson } from './concatenate';
import { geneNamingMessage } from '../../../shared/version-message';

export interface GeneNamesReport {
  store: { key: string; version: number };
  n_vars: number;
  symbol_column: string | null;
  match: GeneNaming['match'];
  join: GeneNaming['join'];
  /** Whether the version records which dataset measured which gene. */
  presence: boolean;
  /** var columns that could hold symbols (strings or categories). */
  var_columns: string[];
  hits?: GeneHit[];
}

/** The naming of a store version, and with `search` the genes whose id or symbol starts with it. */
export async function describeGeneNames(params: { registry: Registry; storeKey: string; version?: string; search?: string; limit?: number }): Promise<GeneNamesReport> {
  const { store, dir } = await resolveStore(params.registry, params.storeKey);
  const record = resolveVersionRef(params.registry, store, params.version);
  const reader = openStore(dir, record.version);
  try {
    const ms = defaultMeasurement(reader);
    const naming = geneNamingOf(reader, ms);
    const frame = reader.var(ms);
    const report: GeneNamesReport = {
      store: { key: store.key, version: record.version },
      n_vars: reader.nVars(ms),
      symbol_column: naming.symbolColumn,
      match: naming.match,
      join: naming.join,
      presence: reader.presence(ms) !== null,
      var_columns: frame.columnNames.filter((c) => c !== 'var_id' && isTextColumn(frame.schema(c)?.dtype)),
    };
    if (params.search !== undefined) report.hits = GeneIndex.of(reader, ms, `store ${store.key}`).search(params.search, params.limit ?? 20);
    return report;
  } finally {
    reader.close();
  }
}

function isTextColumn(dtype: string | undefined): boolean {
  return dtype === 'string' || dtype === 'nullable-string' || dtype === 'category';
}

/** Makes `column` the store's symbol column (or none, with null) as a new version of the latest. */
export async function setSymbolColumn(params: { registry: Registry; storeKey: string; column: string | null }): Promise<StoreResultJson & { symbol_column: string | null }> {
  const { registry } = params;
  const { store, dir } = await resolveStore(registry, params.storeKey);
  const reader = openStore(dir, store.version);
  let naming: GeneNaming;
  let ms: string;
  let datasets: unknown;
  try {
    ms = defaultMeasurement(reader);
    naming = geneNamingOf(reader, ms);
    datasets = reader.manifest.meta.datasets ?? [];
    const frame = reader.var(ms);
    if (params.column !== null && !isTextColumn(frame.schema(params.column)?.dtype)) {
      const candidates = frame.columnNames.filter((c) => c !== 'var_id' && isTextColumn(frame.schema(c)?.dtype));
      const why = frame.schema(params.column) ? 'is not a text column' : 'does not exist';
      throw new CellarError('unknown_column', `The var column ${params.column} of ${store.key} ${why}; columns that can hold symbols: ${candidates.join(', ') || 'none'}.`);
    }
  } finally {
    reader.close();
  }
  if (naming.symbolColumn === params.column) throw new CellarError('usage', `The symbol column of ${store.key} is already ${params.column ?? 'none'}; nothing was written.`);
  const run = registry.startRun({ transform: 'annotate', params: { store: store.key, symbolColumn: params.column }, inputArtifacts: [store.uid] });
  try {
    const writer = await createStoreWriter({ dir, baseVersion: store.version, storeKey: store.key });
    try {
      await refuseStaleBase(writer, store.version, store.key, 'the store was read');
      writer.setGeneNaming(ms, { ...naming, symbolColumn: params.column });
    } catch (err) {
      await writer.abort();
      throw err;
    }
    const { stats, registered: version } = await commitStoreVersion({
      registry,
      writer,
      runUid: run.uid,
      meta: { runUid: run.uid, transform: 'annotate', storeKey: store.key, storeUid: store.uid, datasets },
      message: geneNamingMessage(params.column),
      register: (fields) => registry.addStoreVersion(store.stem, fields),
    });
    return { store: { uid: version.uid, key: version.key, version: version.version, n_observations: stats.nObs, n_vars: stats.nVars }, run: { uid: run.uid }, symbol_column: params.column };
  } catch (err) {
    registry.failRun(run.uid, err instanceof Error ? err.message : String(err));
    throw err;
  }
}
