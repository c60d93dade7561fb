// The listing gives each collection's size but not its members; a collection's lineage
// names them (member edges), so the Library reads them from there.
import { useEffect, useState } from 'react';
import type { CollectionSummary } from '../../../../shared/registry-types';
import { call } from '../../api/call';

export function useCollectionMembers(collections: CollectionSummary[] | undefined): Record<string, string[]> {
  const [members, setMembers] = useState<Record<string, string[]>>({});
  const signature = (collections ?? []).map((c) => `${c.uid}:${c.hash}`).join(',');
  useEffect(() => {
    let live = true;
    void Promise.all(
      (collections ?? []).map(async (c): Promise<[string, string[]]> => {
        try {
          const lineage = await call('lineage:get', { ref: c.uid });
          const labels = new Map(lineage.nodes.map((n) => [n.id, n.label]));
          return [c.uid, lineage.edges.filter((e) => e.relation === 'member' && e.to === c.uid).map((e) => labels.get(e.from) ?? e.from)];
        } catch {
          return [c.uid, []];
        }
      }),
    ).then((entries) => live && setMembers(Object.fromEntries(entries)));
    return () => {
      live = false;
    };
    // The signature changes exactly when a collection or its members do.
  }, [signature]);
  return members;
}
