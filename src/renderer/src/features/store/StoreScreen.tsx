// Store: one version of a store (read-only unless it is the latest), its obs and var
// tables behind value filters, and exports of the filtered slice.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { StoreColumn, StoreRef, StoreSummary } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import type { VersionJson } from '../../../../shared/registry-types';
import { call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { navigate, routeHref } from '../../state/route';
import { ErrorMessage } from '../../components/ErrorMessage';
import { StoreGate, StoreSelect, useChosenStore } from '../../components/StoreSelect';
import { WindowedTable, type TableSortState } from '../../components/WindowedTable';
import { formatCount } from '../../format';
import { FilterBox } from './FilterBox';
import { exampleFilter, firstNumericColumn, INTERNAL_COLUMNS, suggestValues, type ValueSuggestion } from './filter-help';
import { ExportPanel } from './ExportPanel';
import { StoreTools } from './StoreTools';
import { VersionSelect } from '../../components/VersionSelect';

/** The summary of one store version; a refresh (new refreshKey) keeps showing the old one until the new one arrives. */
export function useStoreSummary(storeKey: string | null, version: string | undefined, refreshKey = '') {
  const [summary, setSummary] = useState<StoreSummary | null>(null);
  const [error, setError] = useState<ErrorValue | null>(null);
  useEffect(() => {
    setSummary(null);
  }, [storeKey, version]);
  useEffect(() => {
    setError(null);
    if (!storeKey) return;
    let live = true;
    call('store:summary', { storeKey, ...(version ? { version } : {}) }).then(
      (s) => live && setSummary(s),
      (err: unknown) => live && setError(toShownError(err)),
    );
    return () => {
      live = false;
    };
  }, [storeKey, version, refreshKey]);
  return { summary, error };
}

export function useVersions(storeKey: string | null, refreshKey = '') {
  const [versions, setVersions] = useState<VersionJson[]>([]);
  const [error, setError] = useState<ErrorValue | null>(null);
  useEffect(() => setVersions([]), [storeKey]);
  useEffect(() => {
    setError(null);
    if (!storeKey) return;
    let live = true;
    call('versions:list', { storeKey }).then(
      (v) => live && setVersions(v),
      (err: unknown) => live && setError(toShownError(err)),
    );
    return () => {
      live = false;
    };
  }, [storeKey, refreshKey]);
  return { versions, error };
}

interface FilterState {
  applied: string;
  error: ErrorValue | null;
  count: number | null;
  /** The last filter had an error: its table shows nothing rather than an older filter's rows. */
  failed: boolean;
  suggestions: ValueSuggestion[];
}

const NO_FILTER: FilterState = { applied: '', error: null, count: null, failed: false, suggestions: [] };

/** "e.g. cell_type == "B" and n_counts > 95", from this store's own columns and values. */
function useFilterExample(storeRef: StoreRef | null, table: 'obs' | 'var', columns: StoreColumn[] | undefined): string {
  const [example, setExample] = useState<string | null>(null);
  const storeKey = storeRef?.storeKey;
  const version = storeRef?.version;
  useEffect(() => {
    setExample(null);
    if (!storeKey || !columns) return;
    let live = true;
    const numeric = firstNumericColumn(columns);
    const idColumn = table === 'obs' ? 'obs_id' : 'var_id';
    const ref = { storeKey, ...(version ? { version } : {}) };
    const [asked, name] = numeric ? [call('store:column-stats', { ...ref, table, column: numeric.name }), numeric.name] : [call('store:column-stats', { ...ref, table, column: idColumn }), idColumn];
    asked.then(
      (stats) => {
        if (!live) return;
        if (stats.kind === 'numeric') setExample(exampleFilter(columns, { name, median: stats.median }));
        else setExample(exampleFilter(columns, null, stats.kind === 'string' ? [idColumn, ...stats.top.map((t) => t.value)] : undefined));
      },
      () => live && setExample(exampleFilter(columns)),
    );
    return () => {
      live = false;
    };
  }, [storeKey, version, table, columns]);
  return example ? `e.g. ${example}` : '';
}

export function StoreScreen({ store, version, obs }: { store?: string; version?: string; obs?: string }) {
  const { library } = useApp();
  const storeKey = useChosenStore(store);
  const libraryStore = library?.stores.find((s) => s.key === storeKey);
  const { versions } = useVersions(storeKey, libraryStore?.uid);
  const { summary, error } = useStoreSummary(storeKey, version, libraryStore?.uid);
  const [obsFilter, setObsFilter] = useState<FilterState>(NO_FILTER);
  const [varFilter, setVarFilter] = useState<FilterState>(NO_FILTER);
  const [obsSort, setObsSort] = useState<TableSortState | null>(null);
  const [varSort, setVarSort] = useState<TableSortState | null>(null);
  const [showInternal, setShowInternal] = useState(false);

  useEffect(() => {
    setObsFilter(NO_FILTER);
    setVarFilter(NO_FILTER);
    setObsSort(null);
    setVarSort(null);
  }, [storeKey, version]);

  const ref = { storeKey: storeKey ?? '', ...(version ? { version } : {}) };
  const refKey = `${storeKey}@${version ?? 'latest'}`;
  // A filter handed over in the address (cells selected on the Embeddings screen) applies once the store is read.
  // Once per hand-over: a later version of the store must not undo the user's own filter.
  const summaryUid = summary?.uid;
  const handedOver = useRef<string | null>(null);
  useEffect(() => {
    if (!obs || !summaryUid || handedOver.current === obs) return;
    handedOver.current = obs;
    void applyFilter('obs', obs);
  }, [obs, summaryUid]);
  const obsExample = useFilterExample(storeKey ? ref : null, 'obs', summary?.obs);
  const varExample = useFilterExample(storeKey ? ref : null, 'var', summary?.var);

  const applyFilter = async (which: 'obs' | 'var', filter: string) => {
    const set = which === 'obs' ? setObsFilter : setVarFilter;
    if (!filter) return set(NO_FILTER);
    try {
      const counts = await call('store:count', { ...ref, [which]: filter });
      const count = which === 'obs' ? counts.nObs : counts.nVars;
      const columns = (which === 'obs' ? summary?.obs : summary?.var) ?? [];
      set({ applied: filter, error: null, count, failed: false, suggestions: count === 0 ? suggestValues(filter, columns) : [] });
    } catch (err) {
      // The rows of the previous filter would answer a question nobody asks any more.
      set({ ...NO_FILTER, error: toShownError(err), failed: true });
    }
  };

  const obsApplied = obsFilter.applied;
  const varApplied = varFilter.applied;
  const sortOf = (sort: TableSortState | null) => (sort ? { sortColumn: sort.column, sortDescending: sort.descending } : {});
  const fetchObs = useCallback(
    (offset: number, limit: number) => call('store:obs-window', { storeKey: storeKey ?? '', ...(version ? { version } : {}), ...(obsApplied ? { obs: obsApplied } : {}), offset, limit, ...sortOf(obsSort) }),
    [storeKey, version, obsApplied, obsSort],
  );
  const fetchVar = useCallback(
    (offset: number, limit: number) => call('store:var-window', { storeKey: storeKey ?? '', ...(version ? { version } : {}), ...(varApplied ? { var: varApplied } : {}), offset, limit, ...sortOf(varSort) }),
    [storeKey, version, varApplied, varSort],
  );
  const obsStats = useCallback(
    (column: string) => call('store:column-stats', { storeKey: storeKey ?? '', ...(version ? { version } : {}), table: 'obs', ...(obsApplied ? { filter: obsApplied } : {}), column }),
    [storeKey, version, obsApplied],
  );
  const varStats = useCallback(
    (column: string) => call('store:column-stats', { storeKey: storeKey ?? '', ...(version ? { version } : {}), table: 'var', ...(varApplied ? { filter: varApplied } : {}), column }),
    [storeKey, version, varApplied],
  );
  const hidden = showInternal ? undefined : INTERNAL_COLUMNS;
  const sortKey = (sort: TableSortState | null) => (sort ? `${sort.column}:${sort.descending ? 'desc' : 'asc'}` : '');

  const readOnly = summary !== null && !summary.isLatest;
  const latest = versions.find((v) => v.is_latest);

  return (
    <>
      <header className="screen-header">
        <h1>Store</h1>
        <p className="screen-lede">Browse cells and genes, filter them, export a slice.</p>
      </header>
      <StoreGate storeKey={storeKey}>
        {(storeKey) => (
          <>
            <section className="card" aria-label="Store and version">
              <div className="form-row">
                <StoreSelect value={storeKey} onChange={(key) => navigate('store', { store: key })} />
                <VersionSelect versions={versions} value={version} onChange={(v) => navigate('store', { store: storeKey, version: v })} />
                <a className="button button-quiet field-action" href={routeHref('versions', { store: storeKey })}>
                  All versions
                </a>
              </div>
              {readOnly && summary && (
                <p className="message message-readonly" role="status" data-testid="read-only">
                  Viewing version {summary.version}, an older version: read-only. Appends and embeddings go to the latest version
                  {latest ? ` (v${latest.version})` : ''}.
                </p>
              )}
              <ErrorMessage error={error} />
              {summary && (
                <dl className="facts" data-testid="store-facts">
                  <div>
                    <dt>Version</dt>
                    <dd>
                      v{summary.version} {summary.isLatest ? <span className="badge badge-completed">latest</span> : <span className="badge badge-readonly">read-only</span>}
                    </dd>
                  </div>
                  <div>
                    <dt>Cells</dt>
                    <dd data-testid="store-nobs">{formatCount(summary.nObs)}</dd>
                  </div>
                  <div>
                    <dt>Genes ({summary.measurement})</dt>
                    <dd>{formatCount(summary.nVars)}</dd>
                  </div>
                  <div>
                    <dt>Layers</dt>
                    <dd>{summary.layers.join(', ') || 'none'}</dd>
                  </div>
                  <div>
                    <dt>Embeddings (obsm)</dt>
                    <dd>{summary.obsm.map((o) => `${o.name} (${o.width})`).join(', ') || 'none'}</dd>
                  </div>
                </dl>
              )}
            </section>

            {summary && (
              <>
                <section className="card" aria-labelledby="obs-heading">
                  <div className="card-head">
                    <h2 id="obs-heading">Cells (obs)</h2>
                    <p className="count-line" data-testid="obs-count" aria-live="polite">
                      {obsFilter.failed ? 'No cells shown: the filter has an error' : obsFilter.count !== null ? `${formatCount(obsFilter.count)} of ${formatCount(summary.nObs)} cells match` : `${formatCount(summary.nObs)} cells`}
                    </p>
                  </div>
                  <FilterBox
                    key={`obs-${refKey}`}
                    label="Filter cells"
                    placeholder={obsExample}
                    applied={obsFilter.applied}
                    error={obsFilter.error}
                    onApply={(f) => void applyFilter('obs', f)}
                    testId="obs-filter"
                    columns={summary.obs}
                    suggestions={obsFilter.suggestions}
                  />
                  <div className="table-options">
                    <label>
                      <input type="checkbox" checked={showInternal} onChange={(e) => setShowInternal(e.target.checked)} data-testid="show-internal" />
                      Show internal columns (soma_joinid, cellar_run_uid)
                    </label>
                    <span className="muted">Click a column name to sort; ≡ summarises the column.</span>
                  </div>
                  {obsFilter.failed ? (
                    <p className="results-cleared" data-testid="obs-cleared">
                      Fix the filter above to see cells.
                    </p>
                  ) : (
                    <WindowedTable
                      label="Cells"
                      testId="obs-table"
                      resetKey={`${refKey}|${summary.uid}|${obsApplied}|${sortKey(obsSort)}`}
                      fetchWindow={fetchObs}
                      sort={obsSort}
                      onSortChange={setObsSort}
                      hiddenColumns={hidden}
                      fetchStats={obsStats}
                    />
                  )}
                </section>

                <section className="card" aria-labelledby="var-heading">
                  <div className="card-head">
                    <h2 id="var-heading">Genes (var)</h2>
                    <p className="count-line" data-testid="var-count" aria-live="polite">
                      {varFilter.failed ? 'No genes shown: the filter has an error' : varFilter.count !== null ? `${formatCount(varFilter.count)} of ${formatCount(summary.nVars)} genes match` : `${formatCount(summary.nVars)} genes`}
                    </p>
                  </div>
                  <FilterBox
                    key={`var-${refKey}`}
                    label="Filter genes"
                    placeholder={varExample}
                    applied={varFilter.applied}
                    error={varFilter.error}
                    onApply={(f) => void applyFilter('var', f)}
                    testId="var-filter"
                    columns={summary.var}
                    suggestions={varFilter.suggestions}
                  />
                  {varFilter.failed ? (
                    <p className="results-cleared" data-testid="var-cleared">
                      Fix the filter above to see genes.
                    </p>
                  ) : (
                    <WindowedTable
                      label="Genes"
                      testId="var-table"
                      resetKey={`${refKey}|${summary.uid}|${varApplied}|${sortKey(varSort)}`}
                      fetchWindow={fetchVar}
                      height={300}
                      sort={varSort}
                      onSortChange={setVarSort}
                      hiddenColumns={hidden}
                      fetchStats={varStats}
                    />
                  )}
                </section>

                <ExportPanel key={refKey} summary={summary} storeRef={ref} obs={obsApplied} var={varApplied} nObs={obsFilter.count ?? summary.nObs} nVars={varFilter.count ?? summary.nVars} filterFailed={obsFilter.failed || varFilter.failed} />
                <StoreTools summary={summary} />
              </>
            )}
          </>
        )}
      </StoreGate>
    </>
  );
}
