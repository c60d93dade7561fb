// The shape every "compute something from the latest version, store it as the next one"
// operation shares (neighbours, UMAP, clusters, QC): read the version, compute with cancel
// and progress, write only the new element, commit through commitStoreVersion, and record
// the run with its parameters (lineage) — or a failed or cancelled run and no new version.
import { CellarError } from '../../../shared/errors';
import type { ArtifactRecord } from '../../../shared/registry-types';
import type { Registry } from '../../registry/registry';
import { openStore, type StoreReader } from '../store/store-reader';
import { readManifest } from '../store/format/manifest';
import { createStoreWriter, type StoreWriter } from '../store/store-writer';
import type { StoreFs } from '../store/io/store-fs';
import type { StoreResultJson } from './concatenate';
import { defaultMeasurement } from './export';
import type { ProgressFn } from './progress';
import { commitStoreVersion } from './commit-version';
import { resolveStore } from './reconcile';
import { refuseStaleBase } from './versioning';

/** What the operations of this kind take besides their own parameters. */
export interface DerivedVersionParams {
  registry: Registry;
  storeKey: string;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  fs?: StoreFs;
  /**
   * Called at named points of the write ('before-commit', 'after-commit'; UMAP and clustering
   * also 'after-graph', once a graph they made first is written): crash tests stop there.
   */
  checkpoint?: (name: string) => void | Promise<void>;
}

export interface DerivedVersionSpec<C> {
  /** The transform recorded in the registry (lineage shows it). */
  transform: string;
  /** The run's parameters, as the registry keeps them. */
  runParams: Record<string, unknown>;
  /** For messages: "the clustering was cancelled". */
  what: string;
  compute(reader: StoreReader, measurement: string, store: ArtifactRecord): Promise<C>;
  write(writer: StoreWriter, computed: C, measurement: string): Promise<void>;
  /** What the manifest's meta records about this version (under the transform's name). */
  describe(computed: C): Record<string, unknown>;
  /** The version's message: what it added, in words. */
  message(computed: C): string;
}

export async function commitDerivedVersion<C>(params: DerivedVersionParams, spec: DerivedVersionSpec<C>): Promise<StoreResultJson & { computed: C }> {
  const { registry } = params;
  const { store, dir } = await resolveStore(registry, params.storeKey);
  const run = registry.startRun({ transform: spec.transform, params: { store: store.key, ...spec.runParams }, inputArtifacts: [store.uid] });
  try {
    const reader = openStore(dir, store.version);
    let computed: C;
    let measurement: string;
    try {
      measurement = defaultMeasurement(reader);
      computed = await spec.compute(reader, measurement, store);
    } finally {
      reader.close();
    }
    params.signal?.throwIfAborted();
    const writer = await createStoreWriter({ dir, baseVersion: store.version, fs: params.fs, storeKey: store.key });
    let meta: Record<string, unknown>;
    try {
      await refuseStaleBase(writer, store.version, store.key, `${spec.what} was computed`);
      await spec.write(writer, computed, measurement);
      meta = {
        runUid: run.uid,
        transform: spec.transform,
        storeKey: store.key,
        storeUid: store.uid,
        datasets: readManifest(dir, store.version).meta.datasets ?? [],
        [spec.transform]: spec.describe(computed),
      };
    } catch (err) {
      await writer.abort();
      throw err;
    }
    params.onProgress?.({ phase: 'Saving the new version', done: 0, total: 1 });
    const { stats, registered: version } = await commitStoreVersion({
      registry,
      writer,
      runUid: run.uid,
      meta,
      message: spec.message(computed),
      signal: params.signal,
      checkpoint: params.checkpoint,
      register: (fields) => registry.addStoreVersion(store.stem, fields),
    });
    return {
      store: { uid: version.uid, key: version.key, version: version.version, n_observations: stats.nObs, n_vars: stats.nVars },
      run: { uid: run.uid },
      computed,
    };
  } catch (err) {
    const cancelled = params.signal?.aborted || (err instanceof CellarError && err.code === 'cancelled');
    registry.failRun(run.uid, err instanceof Error ? err.message : String(err), cancelled ? 'cancelled' : 'failed');
    if (params.signal?.aborted && !(err instanceof CellarError && err.code === 'cancelled')) throw new CellarError('cancelled', `${capitalise(spec.what)} was cancelled; the store is unchanged.`);
    throw err;
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
