// Import: validate every file (read in a worker under a time limit) while copying it into
// the home's managed storage and hashing it in the same read (or only hashing it, to link
// it in place), then register it with one run. A bad file anywhere in the batch changes nothing.
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { CellarError } from '../../../shared/errors';
import { importMessage } from '../../../shared/version-message';
import { formatCount } from '../../../shared/format-number';
import type { Registry } from '../../registry/registry';
import type { ArtifactRecord } from '../../../shared/registry-types';
import { copyAndHashDataset, datasetKey, datasetSuffix, hashDataset, type DatasetHash } from './dataset-files';
import type { InspectReport } from '../formats/h5ad/inspect';
import { inspectAllInWorker } from '../formats/inspect-in-worker';
import { storeWriteError } from '../store/io/store-fs';
import type { ProgressFn } from './progress';

export interface ImportParams {
  registry: Registry;
  home: string;
  files: string[];
  collectionKey: string;
  description?: string;
  link?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  readTimeoutMs?: number;
}

export interface ImportResult {
  collection: { uid: string; key: string };
  artifacts: { uid: string; key: string; hash: string; n_observations: number | null; existing: boolean }[];
  run: { uid: string };
}


export function managedStorageDir(home: string): string {
  return join(home, 'storage');
}

export async function importFiles(params: ImportParams): Promise<ImportResult> {
  const { registry, home } = params;
  if (!params.files.length) throw new CellarError('usage', 'Name at least one .h5ad file to import.');
  if (!params.collectionKey.trim()) throw new CellarError('usage', 'The collection key must not be empty.');
  const files = params.files.map((f) => resolve(f));
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f)) throw new CellarError('usage', `${f} is named twice.`);
    seen.add(f);
  }

  // 1. Validate every file (in a worker, under the time limit) while this thread copies each
  //    into the home's storage and hashes it in the same read (a reflink where the file system
  //    can clone). The copies are staged under temporary names; nothing is registered before
  //    every file has been read and checked, and a bad file removes every copy.
  for (const path of files) {
    try {
      await stat(path);
    } catch {
      throw new CellarError('not_found', `${path} does not exist.`);
    }
  }
  const storage = managedStorageDir(home);
  const staged: string[] = [];
  // Stops the copies as soon as the check fails (or the caller cancels).
  const stop = new AbortController();
  const onCallerAbort = () => stop.abort();
  if (params.signal?.aborted) stop.abort();
  params.signal?.addEventListener('abort', onCallerAbort);
  let validated = false;
  const fileOf = (i: number) => (files.length > 1 ? `, file ${formatCount(i + 1)} of ${formatCount(files.length)}` : '');
  const checking = (i: number) => params.onProgress?.({ phase: `Checking ${basename(files[i]!)}${fileOf(i)}`, done: i, total: files.length, unit: 'said' });
  checking(0);
  const validation = inspectAllInWorker(files, {
    timeoutMs: params.readTimeoutMs,
    signal: params.signal,
    onFile: (done) => done < files.length && checking(done),
  }).then(
    (reports) => {
      validated = true;
      return reports;
    },
    (err: unknown) => {
      stop.abort();
      throw err;
    },
  );
  validation.catch(() => undefined); // awaited below, after the copies stop
  const copying = (async () => {
    const hashes: DatasetHash[] = [];
    if (!params.link) await mkdir(storage, { recursive: true });
    const batch = randomUUID().slice(0, 8);
    for (const [i, path] of files.entries()) {
      if (params.link) {
        if (validated) params.onProgress?.({ phase: `Reading ${basename(path)}${fileOf(i)} to fingerprint it`, done: i, total: files.length, unit: 'said' });
        hashes.push(await hashDataset(path, stop.signal));
        continue;
      }
      const target = join(storage, `.import-${batch}-${i}${datasetSuffix(path)}.partial`);
      staged.push(target);
      // Copies run beside the check; their byte counts show once every file has passed it.
      const onBytes = (copied: number, size: number) => validated && params.onProgress?.({ phase: `Copying ${basename(path)}${fileOf(i)}`, done: copied, total: size, unit: 'bytes' });
      hashes.push(
        await copyAndHashDataset(path, target, stop.signal, onBytes).catch((err: unknown) => {
          if (err instanceof CellarError) throw err;
          throw storeWriteError(err, `the copy of ${basename(path)} in the home's storage`);
        }),
      );
    }
    return hashes;
  })();
  const [checkedOut, copiedOut] = await Promise.allSettled([validation, copying]);
  params.signal?.removeEventListener('abort', onCallerAbort);
  const removeStaged = async () => {
    for (const f of staged) await rm(f, { recursive: true, force: true });
  };
  const runParams = { files, collection: params.collectionKey, link: !!params.link };
  // A file that fails the check is the error to report, whatever happened to the copies.
  if (checkedOut.status === 'rejected') {
    await removeStaged();
    throw checkedOut.reason;
  }
  // Every file was good but a copy failed (a full disk, a cancel): the import run failed.
  if (copiedOut.status === 'rejected') {
    await removeStaged();
    const err: unknown = copiedOut.reason;
    const failed = registry.startRun({ transform: 'import', params: runParams });
    registry.failRun(failed.uid, err instanceof Error ? err.message : String(err), params.signal?.aborted ? 'cancelled' : 'failed');
    throw err;
  }
  const reports = checkedOut.value;
  const checked: { path: string; report: InspectReport; hash: string; hashType: DatasetHash['hashType']; size: number; nFiles: number; staged: string | null }[] = files.map((path, i) => {
    const h = copiedOut.value[i]!;
    return { path, report: reports[i]!, hash: h.hash, hashType: h.hashType, size: h.size, nFiles: h.nFiles, staged: params.link ? null : staged[i]! };
  });

  // 2. Register: one import run; the staged copies get their final names, then every registry
  //    row goes in one transaction, so a failure leaves nothing.
  let run: { uid: string };
  try {
    run = registry.startRun({ transform: 'import', params: runParams });
  } catch (err) {
    await removeStaged();
    throw err;
  }
  const created: string[] = [...staged];
  try {
    const storagePaths: string[] = [];
    for (const [i, file] of checked.entries()) {
      params.signal?.throwIfAborted();
      if (params.link || registry.findArtifactByHash(file.hash, file.size, 'h5ad')) {
        // Already registered (or linked in place): the staged copy is not needed.
        if (file.staged) await rm(file.staged, { recursive: true, force: true });
        storagePaths.push(file.path);
        continue;
      }
      const target = join(storage, `${run.uid}-${i}${datasetSuffix(file.path)}`);
      created.push(target);
      await rename(file.staged!, target);
      storagePaths.push(target);
    }
    const artifacts: ImportResult['artifacts'] = [];
    const collection = registry.atomically(() => {
      const members: ArtifactRecord[] = [];
      for (const [i, file] of checked.entries()) {
        const existing = registry.findArtifactByHash(file.hash, file.size, 'h5ad');
        if (existing) {
          members.push(existing);
          artifacts.push({ uid: existing.uid, key: existing.key, hash: existing.hash, n_observations: existing.nObservations, existing: true });
          continue;
        }
        const { artifact } = registry.registerDatasetFile({
          key: datasetKey(file.path),
          description: params.description ?? null,
          suffix: datasetSuffix(file.path),
          size: file.size,
          hash: file.hash,
          hashType: file.hashType,
          nFiles: file.nFiles,
          nObservations: file.report.n_obs,
          nVars: file.report.n_vars,
          storagePath: storagePaths[i]!,
          isLink: !!params.link,
          runUid: run.uid,
          message: importMessage(basename(file.path)),
        });
        members.push(artifact);
        artifacts.push({ uid: artifact.uid, key: artifact.key, hash: artifact.hash, n_observations: artifact.nObservations, existing: false });
      }
      const current = registry.findCollection(params.collectionKey);
      if (!current) return registry.createCollection({ key: params.collectionKey, description: params.description ?? null, members: members.map((m) => m.uid), runUid: run.uid });
      const fresh = members.map((m) => m.uid).filter((uid) => !current.members.some((x) => x.uid === uid));
      return fresh.length ? registry.addCollectionMembers(params.collectionKey, fresh) : current;
    });
    registry.finishRun(run.uid);
    params.onProgress?.({ phase: `Imported ${formatCount(checked.length)} file${checked.length === 1 ? '' : 's'}`, done: checked.length, total: checked.length, unit: 'said' });
    return { collection: { uid: collection.uid, key: collection.key }, artifacts, run: { uid: run.uid } };
  } catch (err) {
    for (const f of created) await rm(f, { recursive: true, force: true });
    registry.failRun(run.uid, err instanceof Error ? err.message : String(err), params.signal?.aborted ? 'cancelled' : 'failed');
    throw err;
  }
}
