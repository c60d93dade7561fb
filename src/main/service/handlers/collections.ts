// Collections: files imported into one, its concatenation planned and run, a member removed.
import type { PlanReport } from '../../../shared/contract';
import { callInWorker } from '../../engine/threads/worker-call';
import type { Handlers } from '../../ipc/handle';
import type { ServiceContext } from './context';

export function collectionHandlers({ options, db, readTimeoutMs, pathOf, startJob, changed }: ServiceContext): Pick<Handlers, 'import:start' | 'concat:plan' | 'concat:start' | 'collection:remove-member'> {
  return {
    'import:start': ({ fileTokens, collectionKey, description }) => startJob('import', `Import into ${collectionKey}`, { files: fileTokens.map(pathOf), collectionKey, description }),
    // Reads every member's h5ad file: in a worker under the read time limit, never on the main thread.
    'concat:plan': ({ collectionKey, makeUnique, matchGenes, join, symbolColumn }) => {
      const members = db().getCollection(collectionKey).members.length;
      return callInWorker<PlanReport>('planConcatenation', [options.home, collectionKey, !!makeUnique, { matchGenes, join, symbolColumn }], { timeoutMs: readTimeoutMs() * Math.max(1, members), what: `planning the concatenation of ${collectionKey}` });
    },
    'concat:start': ({ collectionKey, storeKey, makeUnique, matchGenes, join, symbolColumn }) =>
      startJob('concatenate', `Concatenate ${collectionKey} into ${storeKey}`, { collectionKey, storeKey, makeUnique, genes: { matchGenes, join, symbolColumn } }),
    'collection:remove-member': ({ collectionKey, member }) => {
      const { collection } = db().removeCollectionMember(collectionKey, member);
      changed('collection');
      return { collection: { uid: collection.uid, key: collection.key }, members: collection.members.map((m) => m.key) };
    },
  };
}
