// Selections made on an embedding, kept as data: saved as a categorical obs column of a new
// version (an annotate job whose run records how the cells were picked).
import type { Handlers } from '../../ipc/handle';
import type { ServiceContext } from './context';

export function selectionHandlers({ startJob }: ServiceContext): Pick<Handlers, 'selection:save'> {
  return {
    'selection:save': ({ storeKey, column, groups, restLabel, embedding, version, polygons }) => {
      const nCells = groups.reduce((n, g) => n + g.joinids.length, 0);
      return startJob('annotate', `Save ${nCells.toLocaleString('en-US')} selected cells of ${storeKey} as ${column}`, {
        storeKey,
        selection: { column, groups, restLabel, lineage: { embedding, version, polygons } },
      });
    },
  };
}
