// A table over many rows: only the visible rows are rendered, and rows arrive as Arrow IPC
// windows of WINDOW_ROWS fetched as the user scrolls (a few windows are kept in memory).
import { useCallback, useEffect, useRef, useState, type MouseEvent } from 'react';
import { DataType, tableFromIPC, type Table } from 'apache-arrow';
import type { ColumnStats, TableWindow } from '../../../shared/contract';
import type { ErrorValue } from '../../../shared/errors';
import { toShownError } from '../api/call';
import { formatCell, formatCount } from '../format';
import { ErrorMessage } from './ErrorMessage';
import { ColumnStatsPopover } from './ColumnStatsPopover';

const ROW_HEIGHT = 30;
const WINDOW_ROWS = 200;
const OVERSCAN_ROWS = 10;
const MAX_CACHED_WINDOWS = 12;

interface Props {
  label: string;
  /** Changing it drops every cached window (a new filter, store or version). */
  resetKey: string;
  fetchWindow(offset: number, limit: number): Promise<TableWindow>;
  height?: number;
  testId?: string;
  /** The order the rows arrive in (the caller's fetchWindow applies it); headers show it and change it. */
  sort?: TableSortState | null;
  onSortChange?(sort: TableSortState | null): void;
  /** Columns not drawn (the store's internal ones until asked for). */
  hiddenColumns?: ReadonlySet<string>;
  /** A column summarised over every row the table holds, shown from its header. */
  fetchStats?(column: string): Promise<ColumnStats>;
}

export interface TableSortState {
  column: string;
  descending: boolean;
}

/** Ascending, then descending, then the table's own order. */
function nextSort(current: TableSortState | null | undefined, column: string): TableSortState | null {
  if (current?.column !== column) return { column, descending: false };
  return current.descending ? null : { column, descending: true };
}

export function WindowedTable({ label, resetKey, fetchWindow, height = 420, testId, sort, onSortChange, hiddenColumns, fetchStats }: Props) {
  const [windows, setWindows] = useState<Map<number, Table>>(new Map());
  const [total, setTotal] = useState<number | null>(null);
  const [columns, setColumns] = useState<string[]>([]);
  const [numeric, setNumeric] = useState<ReadonlySet<string>>(new Set());
  const [statsFor, setStatsFor] = useState<{ column: string; left: number } | null>(null);
  const frame = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<ErrorValue | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const inflight = useRef(new Set<number>());
  const generation = useRef(0);
  const scroller = useRef<HTMLDivElement>(null);

  const load = useCallback(
    (windowIndex: number) => {
      if (inflight.current.has(windowIndex)) return;
      inflight.current.add(windowIndex);
      const gen = generation.current;
      fetchWindow(windowIndex * WINDOW_ROWS, WINDOW_ROWS).then(
        (w) => {
          if (gen !== generation.current) return;
          inflight.current.delete(windowIndex);
          const table = tableFromIPC(w.arrow);
          setTotal(w.total);
          setColumns((prev) => (prev.length ? prev : table.schema.fields.map((f) => f.name)));
          setNumeric((prev) => (prev.size ? prev : new Set(table.schema.fields.filter((f) => DataType.isInt(f.type) || DataType.isFloat(f.type)).map((f) => f.name))));
          setWindows((prev) => {
            const next = new Map(prev);
            next.set(windowIndex, table);
            // Drop the windows farthest from this one.
            while (next.size > MAX_CACHED_WINDOWS) {
              const far = [...next.keys()].sort((a, b) => Math.abs(b - windowIndex) - Math.abs(a - windowIndex))[0]!;
              next.delete(far);
            }
            return next;
          });
        },
        (err: unknown) => {
          if (gen !== generation.current) return;
          inflight.current.delete(windowIndex);
          setError(toShownError(err));
        },
      );
    },
    [fetchWindow],
  );

  useEffect(() => {
    generation.current++;
    inflight.current.clear();
    setWindows(new Map());
    setTotal(null);
    setColumns([]);
    setNumeric(new Set());
    setStatsFor(null);
    setError(null);
    setScrollTop(0);
    if (scroller.current) scroller.current.scrollTop = 0;
    load(0);
  }, [resetKey, load]);

  const bodyHeight = height - ROW_HEIGHT;
  // A short table (few rows, or none) takes only the room it needs once its size is known.
  const scrollerHeight = total === null ? height : Math.min(height, (Math.max(total, 3) + 1) * ROW_HEIGHT + 2);
  const rowCount = total ?? 0;
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN_ROWS);
  const last = Math.min(rowCount, Math.ceil((scrollTop + bodyHeight) / ROW_HEIGHT) + OVERSCAN_ROWS);

  useEffect(() => {
    if (total === null || error) return;
    for (let w = Math.floor(first / WINDOW_ROWS); w <= Math.floor(Math.max(first, last - 1) / WINDOW_ROWS); w++) {
      if (!windows.has(w) && w * WINDOW_ROWS < total) load(w);
    }
  }, [first, last, total, windows, load, error]);

  const shown = columns.filter((name) => !hiddenColumns?.has(name));
  const template = shown.map((_, i) => (i === 0 ? 'minmax(12rem, 1.4fr)' : 'minmax(8rem, 1fr)')).join(' ');
  const cellClass = (name: string, i: number) => `vt-cell${i === 0 ? ' vt-key' : ''}${numeric.has(name) ? ' vt-num' : ''}`;
  const openStats = (column: string, e: MouseEvent<HTMLButtonElement>) => {
    if (statsFor?.column === column) return setStatsFor(null);
    const outer = frame.current?.getBoundingClientRect();
    const cell = e.currentTarget.closest('[role=columnheader]')?.getBoundingClientRect();
    setStatsFor({ column, left: outer && cell ? Math.max(0, Math.min(cell.left - outer.left, outer.width - 300)) : 0 });
  };
  const rows = [];
  for (let r = first; r < last; r++) {
    const table = windows.get(Math.floor(r / WINDOW_ROWS));
    const at = r % WINDOW_ROWS;
    rows.push(
      <div key={r} role="row" aria-rowindex={r + 2} className="vt-row" data-testid={testId ? `${testId}-row` : undefined} style={{ top: (r + 1) * ROW_HEIGHT, gridTemplateColumns: template }}>
        {shown.map((name, c) => {
          const text = table ? formatCell(table.getChild(name)?.get(at)) : null;
          // Long values (run uids, barcodes) are cut with an ellipsis; hovering shows all of it.
          return (
            <div role="cell" key={name} className={cellClass(name, c)} title={text ?? undefined}>
              {text ?? (c === 0 ? <span className="muted">Loading…</span> : '')}
            </div>
          );
        })}
      </div>,
    );
  }

  return (
    <div className="vt" data-testid={testId} ref={frame}>
      <ErrorMessage error={error} />
      <div
        ref={scroller}
        className="vt-scroller"
        style={{ height: scrollerHeight }}
        role="table"
        aria-label={label}
        aria-rowcount={rowCount + 1}
        tabIndex={0}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      >
        <div className="vt-canvas" style={{ height: (rowCount + 1) * ROW_HEIGHT, minWidth: shown.length ? 192 + (shown.length - 1) * 128 : undefined }}>
          <div role="row" aria-rowindex={1} className="vt-row vt-header" style={{ gridTemplateColumns: template }}>
            {shown.map((name, c) => {
              const sorted = sort?.column === name ? (sort.descending ? 'descending' : 'ascending') : undefined;
              return (
                <div role="columnheader" key={name} className={cellClass(name, c)} title={name} aria-sort={sorted ?? (onSortChange ? 'none' : undefined)}>
                  {onSortChange ? (
                    <button type="button" className="vt-sort" onClick={() => onSortChange(nextSort(sort, name))} aria-label={`Sort by ${name}${sorted === 'ascending' ? ', now ascending' : sorted === 'descending' ? ', now descending' : ''}`}>
                      <span className="vt-name">{name}</span>
                      <span className="vt-arrow" aria-hidden="true">
                        {sorted === 'ascending' ? '▲' : sorted === 'descending' ? '▼' : ''}
                      </span>
                    </button>
                  ) : (
                    name
                  )}
                  {fetchStats && (
                    <button type="button" className="vt-stats-button" aria-label={`Summary of ${name}`} aria-expanded={statsFor?.column === name} onClick={(e) => openStats(name, e)}>
                      ≡
                    </button>
                  )}
                </div>
              );
            })}
          </div>
          {rows}
          {total === 0 && <div className="vt-empty">No rows match.</div>}
        </div>
      </div>
      {statsFor && fetchStats && <ColumnStatsPopover key={`${resetKey}|${statsFor.column}`} column={statsFor.column} left={statsFor.left} top={ROW_HEIGHT + 2} fetchStats={fetchStats} onClose={() => setStatsFor(null)} />}
      <p className="vt-footer muted">{error ? 'The rows could not be read.' : total === null ? 'Loading…' : `${formatCount(total)} rows`}</p>
    </div>
  );
}
