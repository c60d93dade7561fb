// A store's versions: listed, compared, and an older one restored as the newest.
import { toVersionJson } from '../../registry/artifacts';
import { diffVersions, restoreVersion } from '../../engine/ops/versioning';
import { resolveStore } from '../../engine/ops/reconcile';
import type { Handlers } from '../../ipc/handle';
import type { ServiceContext } from './context';

export function versionHandlers({ db, changed }: ServiceContext): Pick<Handlers, 'versions:list' | 'versions:diff' | 'versions:restore'> {
  return {
    'versions:list': async ({ storeKey }) => {
      const { store } = await resolveStore(db(), storeKey);
      return db().versions(store.stem).map(toVersionJson);
    },
    'versions:diff': ({ storeKey, a, b }) => diffVersions({ registry: db(), storeKey, a, b }),
    'versions:restore': async ({ storeKey, version }) => {
      const r = await restoreVersion({ registry: db(), storeKey, version });
      changed('restore');
      return r;
    },
  };
}
