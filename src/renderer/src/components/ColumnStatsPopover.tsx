// A column's summary over every row of its table (not only the rows on screen), opened from
// the column's header: categories with counts, min / median / max, or distinct values; NA always.
import { useEffect, useRef, useState } from 'react';
import type { ColumnStats } from '../../../shared/contract';
import type { ErrorValue } from '../../../shared/errors';
import { toShownError } from '../api/call';
import { formatCell, formatCount } from '../format';
import { ErrorMessage } from './ErrorMessage';

const SHOWN_VALUES = 12;

function CountRows({ entries }: { entries: { value: string; count: number }[] }) {
  return (
    <>
      {entries.map((e) => (
        <tr key={e.value}>
          <th scope="row">{e.value}</th>
          <td className="num">{formatCount(e.count)}</td>
        </tr>
      ))}
    </>
  );
}

function StatsBody({ stats }: { stats: ColumnStats }) {
  const [all, setAll] = useState(false);
  let rows;
  let note: string | null = null;
  if (stats.kind === 'category') {
    const entries = all ? stats.categories : stats.categories.slice(0, SHOWN_VALUES);
    rows = <CountRows entries={entries} />;
    if (stats.n_categories > stats.categories.length) note = `Showing the first ${formatCount(stats.categories.length)} of ${formatCount(stats.n_categories)} categories.`;
    if (!all && stats.categories.length > SHOWN_VALUES) {
      note = null;
      rows = (
        <>
          {rows}
          <tr>
            <td colSpan={2}>
              <button type="button" className="link-button" onClick={() => setAll(true)}>
                Show all {formatCount(stats.categories.length)} categories
              </button>
            </td>
          </tr>
        </>
      );
    }
  } else if (stats.kind === 'numeric') {
    rows = (
      <>
        {(['min', 'median', 'max'] as const).map((k) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td className="num">{stats[k] === null ? '—' : formatCell(stats[k])}</td>
          </tr>
        ))}
      </>
    );
  } else if (stats.kind === 'bool') {
    rows = (
      <CountRows
        entries={[
          { value: 'true', count: stats.n_true },
          { value: 'false', count: stats.n_false },
        ]}
      />
    );
  } else {
    rows = (
      <>
        <tr>
          <th scope="row">distinct values</th>
          <td className="num">{formatCount(stats.n_distinct)}</td>
        </tr>
        {stats.top[0] && stats.top[0].count > 1 && <CountRows entries={stats.top.filter((t) => t.count > 1)} />}
      </>
    );
  }
  return (
    <table className="table table-compact stats-table">
      <tbody>
        {rows}
        <tr className={stats.n_missing ? 'row-missing' : undefined}>
          <th scope="row">NA</th>
          <td className="num">{formatCount(stats.n_missing)}</td>
        </tr>
      </tbody>
      {note && (
        <caption className="muted" style={{ captionSide: 'bottom' }}>
          {note}
        </caption>
      )}
    </table>
  );
}

export function ColumnStatsPopover({ column, left, top, fetchStats, onClose }: { column: string; left: number; top: number; fetchStats(column: string): Promise<ColumnStats>; onClose(): void }) {
  const [stats, setStats] = useState<ColumnStats | null>(null);
  const [error, setError] = useState<ErrorValue | null>(null);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let live = true;
    fetchStats(column).then(
      (s) => live && setStats(s),
      (err: unknown) => live && setError(toShownError(err)),
    );
    return () => {
      live = false;
    };
  }, [column, fetchStats]);
  useEffect(() => box.current?.focus(), []);
  return (
    <div
      ref={box}
      className="stats-popover"
      role="dialog"
      aria-label={`Summary of ${column}`}
      data-testid="column-stats"
      data-column={column}
      tabIndex={-1}
      style={{ left, top }}
      onKeyDown={(e) => e.key === 'Escape' && onClose()}
    >
      <div className="stats-head">
        <strong>{column}</strong>
        {stats && <span className="muted">{formatCount(stats.n)} rows</span>}
        <button type="button" className="button button-quiet button-small" onClick={onClose} aria-label="Close the summary">
          ✕
        </button>
      </div>
      <ErrorMessage error={error} />
      {!stats && !error && <p className="muted">Summarising…</p>}
      {stats && <StatsBody stats={stats} />}
    </div>
  );
}
