// Differential expression from the explorer: the selection against the rest, A against B,
// or values of an obs column; a job like any other, then its table (sortable, searchable,
// paged) with a CSV export. Clicking a gene colours the embedding by it.
import { useEffect, useId, useMemo, useState } from 'react';
import type { DeRow, RequestOf, StoreSummary } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import { call, toShownError } from '../../api/call';
import { downloadExport } from '../../api/client';
import { useApp } from '../../state/AppState';
import { ErrorMessage } from '../../components/ErrorMessage';
import { JobStatus } from '../../components/JobStatus';
import { completedResult } from '../../state/job-result';
import { formatCount } from '../../format';
import { decodeDeRows, viewDeRows, type DeColumn } from './de-rows';
import { selectionJoinids, type Selection } from './explorer-selection';
import type { KeptSelections } from './SelectionPanel';

type Comparison = 'selection' | 'ab' | 'column';
const PAGE_ROWS = 25;
/** de:table's largest window. */
const FETCH_ROWS = 5_000;

interface Props {
  summary: StoreSummary;
  selection: Selection | null;
  kept: KeptSelections;
  onGene(gene: string): void;
}

export function DePanel({ summary, selection, kept, onGene }: Props) {
  const { trackJob, jobById, cancelJob } = useApp();
  const categorical = summary.obs.filter((c) => c.categories && c.categories.length > 1);
  const [comparison, setComparison] = useState<Comparison>('selection');
  const [method, setMethod] = useState<'wilcoxon' | 't-test'>('wilcoxon');
  const [groupby, setGroupby] = useState(categorical[0]?.name ?? '');
  const column = categorical.find((c) => c.name === groupby);
  const values = (column?.categories ?? []).map(String);
  const [group, setGroup] = useState('');
  const [reference, setReference] = useState('');
  const [error, setError] = useState<ErrorValue | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = jobById(jobId);
  const done = completedResult(job, 'de');
  const ids = { comparison: useId(), method: useId(), groupby: useId(), group: useId(), reference: useId() };
  const chosenGroup = values.includes(group) ? group : (values[0] ?? '');

  const ready = comparison === 'selection' ? selection !== null : comparison === 'ab' ? kept.a !== null && kept.b !== null : chosenGroup !== '';
  const start = async () => {
    setError(null);
    const ref = { storeKey: summary.key, ...(summary.isLatest ? {} : { version: String(summary.version) }), method };
    let request: RequestOf<'de:start'>;
    if (comparison === 'selection') request = { ...ref, obsJoinids: selectionJoinids(selection!), groupName: `${selection!.count} selected cells` };
    else if (comparison === 'ab') request = { ...ref, obsJoinids: selectionJoinids(kept.a!), referenceJoinids: selectionJoinids(kept.b!), groupName: `A (${kept.a!.count} cells)`, referenceName: `B (${kept.b!.count} cells)` };
    else request = { ...ref, groupby, group: chosenGroup, ...(reference ? { reference } : {}) };
    try {
      const snapshot = await call('de:start', request);
      trackJob(snapshot);
      setJobId(snapshot.id);
    } catch (err) {
      setError(toShownError(err));
    }
  };

  return (
    <section className="card" aria-labelledby="de-heading" data-testid="de-panel">
      <h2 id="de-heading">Differential expression</h2>
      <form
        className="form-row"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        <div className="field">
          <label htmlFor={ids.comparison}>Compare</label>
          <select id={ids.comparison} value={comparison} onChange={(e) => setComparison(e.target.value as Comparison)}>
            <option value="selection">the selection with the rest</option>
            <option value="ab">A with B</option>
            <option value="column">values of an obs column</option>
          </select>
        </div>
        {comparison === 'column' && (
          <>
            <div className="field">
              <label htmlFor={ids.groupby}>Column</label>
              <select id={ids.groupby} value={groupby} onChange={(e) => setGroupby(e.target.value)}>
                {categorical.map((c) => (
                  <option key={c.name}>{c.name}</option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={ids.group}>Group</label>
              <select id={ids.group} value={chosenGroup} onChange={(e) => setGroup(e.target.value)}>
                {values.map((v) => (
                  <option key={v}>{v}</option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={ids.reference}>against</label>
              <select id={ids.reference} value={reference} onChange={(e) => setReference(e.target.value)}>
                <option value="">every other cell</option>
                {values
                  .filter((v) => v !== chosenGroup)
                  .map((v) => (
                    <option key={v}>{v}</option>
                  ))}
              </select>
            </div>
          </>
        )}
        <div className="field field-narrow">
          <label htmlFor={ids.method}>Test</label>
          <select id={ids.method} value={method} onChange={(e) => setMethod(e.target.value as 'wilcoxon' | 't-test')}>
            <option value="wilcoxon">Wilcoxon</option>
            <option value="t-test">Welch's t-test</option>
          </select>
        </div>
        <button type="submit" className="button button-primary field-action" disabled={!ready || job?.state === 'running'}>
          Run
        </button>
      </form>
      {!ready && (
        <p className="muted">
          {comparison === 'selection' ? 'Select cells on the plot first.' : comparison === 'ab' ? 'Keep two selections as A and B first.' : 'This store has no categorical obs column with two values or more.'}
        </p>
      )}
      <ErrorMessage error={error} />
      {job && (
        <div className="inline-job">
          <JobStatus job={job} onCancel={(id) => void cancelJob(id)} />
        </div>
      )}
      {done && (
        <>
          <p data-testid="de-summary">
            {done.group.label} ({formatCount(done.group.n_cells)} cells) against {done.reference.label} ({formatCount(done.reference.n_cells)} cells), {done.method === 'wilcoxon' ? 'Wilcoxon rank-sum' : "Welch's t-test"} on{' '}
            {done.values === 'log-normalized' ? 'log-normalised counts (per 10,000, log1p)' : `layer ${done.layer} as stored`}, {formatCount(done.n_genes)} genes.
          </p>
          {done.notices.map((n) => (
            <p key={n} className="message message-warning">
              {n}
            </p>
          ))}
          <DeTable key={done.table} table={done.table} onGene={onGene} />
        </>
      )}
    </section>
  );
}

const COLUMNS: { id: DeColumn; label: string; numeric: boolean }[] = [
  { id: 'gene', label: 'gene', numeric: false },
  { id: 'symbol', label: 'symbol', numeric: false },
  { id: 'logfc', label: 'logfc', numeric: true },
  { id: 'pval', label: 'pval', numeric: true },
  { id: 'padj', label: 'padj', numeric: true },
  { id: 'pct_in', label: 'pct_in', numeric: true },
  { id: 'pct_out', label: 'pct_out', numeric: true },
];

const FIRST_DESCENDING: ReadonlySet<DeColumn> = new Set(['logfc', 'pct_in', 'pct_out', 'score']);

function DeTable({ table, onGene }: { table: string; onGene(gene: string): void }) {
  const [rows, setRows] = useState<DeRow[] | null>(null);
  const [error, setError] = useState<ErrorValue | null>(null);
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<{ column: DeColumn; descending: boolean } | null>(null);
  const [page, setPage] = useState(0);
  const [exported, setExported] = useState<string | null>(null);
  const searchId = useId();

  useEffect(() => {
    let live = true;
    (async () => {
      const all: DeRow[] = [];
      for (let offset = 0; ; offset += FETCH_ROWS) {
        const w = await call('de:table', { table, offset, limit: FETCH_ROWS });
        all.push(...decodeDeRows(w.arrow));
        if (all.length >= w.total || w.total === 0) break;
      }
      if (live) setRows(all);
    })().catch((err: unknown) => live && setError(toShownError(err)));
    return () => {
      live = false;
    };
  }, [table]);

  const shown = useMemo(() => (rows ? viewDeRows(rows, search, sort) : []), [rows, search, sort]);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_ROWS));
  const current = Math.min(page, pages - 1);
  const exportCsv = async () => {
    setError(null);
    try {
      const r = await call('de:export', { table });
      if (r.download) await downloadExport(r.download, r.path.split(/[\\/]/).pop() ?? 'de.csv');
      setExported(r.path);
    } catch (err) {
      setError(toShownError(err));
    }
  };
  // First click: the direction a reader wants first (largest fold change, smallest p-value); then the other; then the engine's order.
  const toggleSort = (column: DeColumn) => {
    setPage(0);
    const first = FIRST_DESCENDING.has(column);
    if (sort?.column !== column) setSort({ column, descending: first });
    else setSort(sort.descending === first ? { column, descending: !first } : null);
  };

  return (
    <div className="de-table">
      <div className="toolbar">
        <label htmlFor={searchId}>Find a gene</label>
        <input
          id={searchId}
          type="search"
          value={search}
          placeholder="id or symbol"
          onChange={(e) => {
            setSearch(e.target.value);
            setPage(0);
          }}
        />
        <span className="muted" data-testid="de-count">
          {rows ? `${formatCount(shown.length)} of ${formatCount(rows.length)} genes` : 'Loading…'}
        </span>
        <button type="button" className="button" onClick={() => void exportCsv()} disabled={!rows}>
          Export CSV
        </button>
        {exported && (
          <span className="muted" data-testid="de-exported">
            Saved {exported.split(/[\\/]/).pop()}
          </span>
        )}
      </div>
      <ErrorMessage error={error} />
      <div className="table-scroll">
        <table className="table table-compact" aria-label="Differential expression" data-testid="de-table">
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th key={c.id} scope="col" aria-sort={sort?.column === c.id ? (sort.descending ? 'descending' : 'ascending') : 'none'} className={c.numeric ? 'numeric' : undefined}>
                  <button type="button" className="th-sort" onClick={() => toggleSort(c.id)}>
                    {c.label}
                    {sort?.column === c.id ? (sort.descending ? ' ▼' : ' ▲') : ''}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.slice(current * PAGE_ROWS, (current + 1) * PAGE_ROWS).map((r) => (
              <tr key={r.gene} data-testid="de-row">
                <td>
                  <button type="button" className="link-button" title={`Colour the embedding by ${r.gene}`} onClick={() => onGene(r.gene)}>
                    {r.gene}
                  </button>
                </td>
                <td>{r.symbol ?? ''}</td>
                <td className="numeric">{r.logfc.toFixed(3)}</td>
                <td className="numeric">{formatP(r.pval)}</td>
                <td className="numeric">{formatP(r.padj)}</td>
                <td className="numeric">{(r.pct_in * 100).toFixed(1)}%</td>
                <td className="numeric">{(r.pct_out * 100).toFixed(1)}%</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pages > 1 && (
        <div className="toolbar">
          <button type="button" className="button button-small" disabled={current === 0} onClick={() => setPage(current - 1)}>
            Previous
          </button>
          <span className="muted">
            Page {current + 1} of {formatCount(pages)}
          </span>
          <button type="button" className="button button-small" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
            Next
          </button>
        </div>
      )}
    </div>
  );
}

/** p-values span hundreds of orders of magnitude: three significant digits, exponent when small. */
function formatP(p: number): string {
  if (!Number.isFinite(p)) return String(p);
  if (p === 0) return '0';
  return p < 1e-3 ? p.toExponential(2) : p.toPrecision(3);
}
