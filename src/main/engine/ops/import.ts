// Import: validate every file first (read in a worker under a time limit), hash it,
// then copy it into the home's managed storage (or link it in place) and register it
// with one run. A bad file anywhere in the batch changes nothing.
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { CellarError } from '../../../shared/errors';
import { hashFile } from '../../registry/hash';
import type { ArtifactRecord, Registry } from '../../registry/registry';
import type { InspectReport } from '../h5ad/inspect';
import { inspectAllInWorker } from '../jobs/worker-host';
import { storeWriteError } from '../store/storeFs';
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

  // 1. Validate and hash everything before touching the registry.
  for (const path of files) {
    try {
      await stat(path);
    } catch {
      throw new CellarError('not_found', `${path} does not exist.`);
    }
  }
  params.onProgress?.({ phase: `Checking ${basename(files[0]!)}`, done: 0, total: files.length });
  const reports = await inspectAllInWorker(files, {
    timeoutMs: params.readTimeoutMs,
    signal: params.signal,
    onFile: (done) => done < files.length && params.onProgress?.({ phase: `Checking ${basename(files[done]!)}`, done, total: files.length }),
  });
  const checked: { path: string; report: InspectReport; hash: string; hashType: 'md5' | 'sha1-fl'; size: number }[] = [];
  for (const [i, path] of files.entries()) {
    const h = await hashFile(path, params.signal);
    checked.push({ path, report: reports[i]!, hash: h.hash, hashType: h.hashType, size: h.size });
  }

  // 2. Register: one import run; copies land under a temporary name, then rename.
  const run = registry.startRun({ transform: 'import', params: { files, collection: params.collectionKey, link: !!params.link } });
  const created: string[] = [];
  try {
    const storage = managedStorageDir(home);
    await mkdir(storage, { recursive: true });
    // Copies first; then every registry row in one transaction, so a failure leaves nothing.
    const storagePaths: string[] = [];
    for (const [i, file] of checked.entries()) {
      params.signal?.throwIfAborted();
      params.onProgress?.({ phase: `Copying ${basename(file.path)}`, done: i, total: checked.length });
      if (params.link || registry.findArtifactByHash(file.hash, file.size, 'h5ad')) {
        storagePaths.push(file.path);
        continue;
      }
      const target = join(storage, `${run.uid}-${i}${extname(file.path) || '.h5ad'}`);
      created.push(`${target}.partial`, target);
      await copyFile(file.path, `${target}.partial`).catch((err: unknown) => {
        throw storeWriteError(err, `the copy of ${basename(file.path)} in the home's storage`);
      });
      await rename(`${target}.partial`, target);
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
        const { artifact } = registry.registerArtifact({
          key: basename(file.path),
          description: params.description ?? null,
          suffix: extname(file.path) || '.h5ad',
          kind: 'h5ad',
          size: file.size,
          hash: file.hash,
          hashType: file.hashType,
          nFiles: 1,
          nObservations: file.report.n_obs,
          nVars: file.report.n_vars,
          storagePath: storagePaths[i]!,
          isLink: !!params.link,
          runUid: run.uid,
          ifKeyExists: 'new_version',
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
    params.onProgress?.({ phase: 'Imported', done: checked.length, total: checked.length });
    return { collection: { uid: collection.uid, key: collection.key }, artifacts, run: { uid: run.uid } };
  } catch (err) {
    for (const f of created) await rm(f, { force: true });
    registry.failRun(run.uid, err instanceof Error ? err.message : String(err), params.signal?.aborted ? 'cancelled' : 'failed');
    throw err;
  }
}
