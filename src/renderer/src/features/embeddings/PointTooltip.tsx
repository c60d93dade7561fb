// The obs values of the cell under the pointer, read on demand (one row through
// store:obs-window) and kept for the cells already seen.
import { useEffect, useState } from 'react';
import { tableFromIPC } from 'apache-arrow';
import type { StoreRef } from '../../../../shared/contract';
import { call } from '../../api/call';
import { formatCell } from '../../format';

/** Columns Cellar keeps for itself: not what a user hovers to learn. */
const SKIPPED = new Set(['soma_joinid', 'cellar_run_uid']);
const MAX_ROWS = 12;

export type RowCache = Map<number, [string, unknown][] | Error>;

export function PointTooltip({ storeRef, index, cache, datasetNames }: { storeRef: StoreRef; index: number; cache: RowCache; datasetNames: ReadonlyMap<string, string> }) {
  const [row, setRow] = useState(() => cache.get(index) ?? null);
  useEffect(() => {
    const known = cache.get(index);
    setRow(known ?? null);
    if (known) return;
    let live = true;
    call('store:obs-window', { ...storeRef, obs: `soma_joinid == ${index}`, offset: 0, limit: 1 }).then(
      (w) => {
        const table = tableFromIPC(w.arrow);
        const first = table.get(0);
        const values: [string, unknown][] = first ? table.schema.fields.filter((f) => !SKIPPED.has(f.name)).map((f) => [f.name, first[f.name] as unknown]) : [];
        cache.set(index, values);
        if (live) setRow(values);
      },
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        cache.set(index, error);
        if (live) setRow(error);
      },
    );
    return () => {
      live = false;
    };
  }, [index, cache, storeRef.storeKey, storeRef.version]);

  if (row === null) return <span>Cell {index}…</span>;
  if (row instanceof Error) return <span>Cell {index}: {row.message}</span>;
  const shown = row.slice(0, MAX_ROWS);
  return (
    <dl data-testid="tooltip-values">
      {shown.map(([name, value]) => (
        <div key={name} style={{ display: 'contents' }}>
          <dt>{name}</dt>
          <dd>{name === 'dataset' && value !== null ? (datasetNames.get(String(value)) ?? formatCell(value)) : formatCell(value)}</dd>
        </div>
      ))}
      {row.length > shown.length && (
        <>
          <dt>…</dt>
          <dd>{row.length - shown.length} more columns</dd>
        </>
      )}
    </dl>
  );
}
