// The Library: what is registered, where it came from (lineage, runs), renaming and
// deleting, and whether the disk has room for the next step.
import { existsSync, mkdirSync, statfsSync, statSync } from 'node:fs';
import { CellarError } from '../../../shared/errors';
import type { JsonValue, LibraryListing, RunDetails, RunItem } from '../../../shared/contract';
import { reconcileHome } from '../../engine/ops/reconcile';
import { deleteItem } from '../../engine/ops/delete-item';
import type { Registry } from '../../registry/registry';
import type { Handlers } from '../../ipc/handle';
import type { ServiceContext } from './context';

type LibraryChannel = 'app:info' | 'library:list' | 'lineage:get' | 'run:get' | 'artifact:delete' | 'artifact:rename' | 'artifact:inspect' | 'space:check';

export function libraryHandlers({ options, db, pathOf, registerFile, changed }: ServiceContext): Pick<Handlers, LibraryChannel> {
  return {
    'app:info': () => ({ name: 'Cellar', version: options.version, home: options.home, homeNote: options.homeNote ?? null, mode: options.mode }),
    // Runs of a process that died (a killed CLI command) end, and its committed work is registered, before anything is shown.
    'library:list': async () => {
      await reconcileHome(db());
      return listLibrary(db());
    },
    'lineage:get': async ({ ref }) => {
      await reconcileHome(db());
      return db().lineage(ref);
    },
    'run:get': ({ uid }) => runDetails(db(), uid),
    'artifact:delete': async ({ ref, force }) => {
      // A run killed mid-write is not a user of its inputs: end it first so it does not block the delete.
      await reconcileHome(db());
      const r = await deleteItem(db(), options.home, ref, !!force);
      changed('delete');
      return {
        deleted: r.deleted.map((d) => (d.kind === 'artifact' ? { kind: d.kind, uid: d.uid, key: d.key, version: d.version } : { kind: d.kind, uid: d.uid, key: d.key })),
        overridden: r.overridden,
        removedFiles: new Set(r.removedFiles).size,
      };
    },
    'artifact:rename': ({ ref, newKey }) => {
      const renamed = db().rename(ref, newKey.trim());
      changed('rename');
      return renamed;
    },
    'artifact:inspect': ({ ref }) => {
      const artifact = db().findArtifact(ref);
      if (!artifact || artifact.deletedAt !== null) throw new CellarError('not_found', `There is no file called ${ref} in the Library.`);
      if (artifact.kind !== 'h5ad') throw new CellarError('usage', `${artifact.key} is a store, not a file: open it on the Store screen.`);
      if (!existsSync(artifact.storagePath)) throw new CellarError('not_found', `The file of ${artifact.key} is missing from ${artifact.storagePath}.`);
      return { ...registerFile(artifact.storagePath), name: artifact.key, artifactKey: artifact.key };
    },
    'space:check': ({ collectionKey, storeKey, fileTokens }) => {
      let needed = 0;
      if (collectionKey) for (const m of db().getCollection(collectionKey).members) needed += m.size;
      if (storeKey) needed += db().getStore(storeKey).size;
      for (const t of fileTokens ?? []) needed += statSync(pathOf(t)).size * 2;
      mkdirSync(options.home, { recursive: true });
      const fsStats = statfsSync(options.home);
      return { neededBytes: needed, freeBytes: fsStats.bavail * fsStats.bsize };
    },
  };
}

function listLibrary(registry: Registry): LibraryListing {
  const listing = registry.list();
  return {
    ...listing,
    collections: listing.collections.map((c) => ({
      ...c,
      members: registry.getCollection(c.uid).members.map((m) => ({
        uid: m.uid,
        key: m.key,
        version: m.version,
        nObservations: m.nObservations,
        nVars: m.nVars,
        size: m.size,
        deleted: m.deletedAt !== null,
      })),
    })),
  };
}

function runDetails(registry: Registry, uid: string): RunDetails {
  const run = registry.getRun(uid);
  const artifactItem = (ref: string): RunItem => {
    const a = registry.findArtifact(ref);
    if (!a) return { uid: ref, kind: 'artifact', key: ref, deleted: true };
    return { uid: a.uid, kind: 'artifact', key: a.key, artifactKind: a.kind, version: a.version, isLatest: a.isLatest, deleted: a.deletedAt !== null };
  };
  const collectionItem = (ref: string): RunItem => {
    const c = registry.findCollection(ref);
    return c ? { uid: c.uid, kind: 'collection', key: c.key, deleted: c.deletedAt !== null } : { uid: ref, kind: 'collection', key: ref, deleted: true };
  };
  return {
    uid: run.uid,
    transform: { name: run.transform.name, version: run.transform.version },
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    // Stored as JSON text by the registry, so every value is JSON.
    params: run.params as Record<string, JsonValue>,
    error: run.error,
    inputs: [...run.inputs.collections.map(collectionItem), ...run.inputs.artifacts.map(artifactItem)],
    outputs: [...run.outputs.collections.map(collectionItem), ...run.outputs.artifacts.map(artifactItem)],
  };
}
