// Store: one version of a store (read-only unless it is the latest), its obs and var
// tables behind value filters, and exports of the filtered slice.
import { useCallback, useEffect, useId, useState } from 'react';
import type { StoreSummary } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import type { VersionJson } from '../../../../shared/registry-types';
import { call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { navigate, routeHref } from '../../state/route';
import { ErrorMessage } from '../../components/ErrorMessage';
import { StoreGate, StoreSelect, useChosenStore } from '../../components/StoreSelect';
import { WindowedTable } from '../../components/WindowedTable';
import { formatCount } from '../../format';
import { FilterBox } from './FilterBox';
import { ExportPanel } from './ExportPanel';
import { StoreTools } from './StoreTools';

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
}

export function StoreScreen({ store, version }: { store?: string; version?: string }) {
  const { library } = useApp();
  const storeKey = useChosenStore(store);
  const libraryStore = library?.stores.find((s) => s.key === storeKey);
  const { versions } = useVersions(storeKey, libraryStore?.uid);
  const { summary, error } = useStoreSummary(storeKey, version, libraryStore?.uid);
  const [obsFilter, setObsFilter] = useState<FilterState>({ applied: '', error: null, count: null });
  const [varFilter, setVarFilter] = useState<FilterState>({ applied: '', error: null, count: null });
  const versionId = useId();

  useEffect(() => {
    setObsFilter({ applied: '', error: null, count: null });
    setVarFilter({ applied: '', error: null, count: null });
  }, [storeKey, version]);

  const ref = { storeKey: storeKey ?? '', ...(version ? { version } : {}) };
  const refKey = `${storeKey}@${version ?? 'latest'}`;

  const applyFilter = async (which: 'obs' | 'var', filter: string) => {
    const set = which === 'obs' ? setObsFilter : setVarFilter;
    if (!filter) return set({ applied: '', error: null, count: null });
    try {
      const counts = await call('store:count', { ...ref, [which]: filter });
      set({ applied: filter, error: null, count: which === 'obs' ? counts.nObs : counts.nVars });
    } catch (err) {
      set((prev) => ({ ...prev, error: toShownError(err) }));
    }
  };

  const obsApplied = obsFilter.applied;
  const varApplied = varFilter.applied;
  const fetchObs = useCallback(
    (offset: number, limit: number) => call('store:obs-window', { storeKey: storeKey ?? '', ...(version ? { version } : {}), ...(obsApplied ? { obs: obsApplied } : {}), offset, limit }),
    [storeKey, version, obsApplied],
  );
  const fetchVar = useCallback(
    (offset: number, limit: number) => call('store:var-window', { storeKey: storeKey ?? '', ...(version ? { version } : {}), ...(varApplied ? { var: varApplied } : {}), offset, limit }),
    [storeKey, version, varApplied],
  );

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
                <div className="field">
                  <label htmlFor={versionId}>Version</label>
                  <select id={versionId} value={version ?? ''} onChange={(e) => navigate('store', { store: storeKey, version: e.target.value || undefined })}>
                    <option value="">Latest{latest ? ` (v${latest.version})` : ''}</option>
                    {versions.map((v) => (
                      <option key={v.uid} value={String(v.version)}>
                        v{v.version}
                        {v.is_latest ? ' (latest)' : ''} — {v.run?.transform ?? 'unknown'}
                      </option>
                    ))}
                  </select>
                </div>
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
                      {obsFilter.count !== null ? `${formatCount(obsFilter.count)} of ${formatCount(summary.nObs)} cells match` : `${formatCount(summary.nObs)} cells`}
                    </p>
                  </div>
                  <FilterBox
                    key={`obs-${refKey}`}
                    label="Filter cells"
                    placeholder={`e.g. ${summary.obs.find((c) => c.dtype === 'category')?.name ?? 'cell_type'} == "B"`}
                    applied={obsFilter.applied}
                    error={obsFilter.error}
                    onApply={(f) => void applyFilter('obs', f)}
                    testId="obs-filter"
                  />
                  <WindowedTable label="Cells" testId="obs-table" resetKey={`${refKey}|${summary.uid}|${obsApplied}`} fetchWindow={fetchObs} />
                </section>

                <section className="card" aria-labelledby="var-heading">
                  <div className="card-head">
                    <h2 id="var-heading">Genes (var)</h2>
                    <p className="count-line" data-testid="var-count" aria-live="polite">
                      {varFilter.count !== null ? `${formatCount(varFilter.count)} of ${formatCount(summary.nVars)} genes match` : `${formatCount(summary.nVars)} genes`}
                    </p>
                  </div>
                  <FilterBox
                    key={`var-${refKey}`}
                    label="Filter genes"
                    placeholder='e.g. var_id in ["CD3E", "MS4A1"]'
                    applied={varFilter.applied}
                    error={varFilter.error}
                    onApply={(f) => void applyFilter('var', f)}
                    testId="var-filter"
                  />
                  <WindowedTable label="Genes" testId="var-table" resetKey={`${refKey}|${summary.uid}|${varApplied}`} fetchWindow={fetchVar} height={300} />
                </section>

                <ExportPanel key={refKey} summary={summary} storeRef={ref} obs={obsApplied} var={varApplied} nObs={obsFilter.count ?? summary.nObs} nVars={varFilter.count ?? summary.nVars} />
                <StoreTools summary={summary} />
              </>
            )}
          </>
        )}
      </StoreGate>
    </>
  );
}
