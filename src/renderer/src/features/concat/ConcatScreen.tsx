// Concatenate plan: what a collection becomes as a store (kept, dropped, converted, added,
// problems), the space it needs, then the job that writes it.
import { useEffect, useId, useState } from 'react';
import type { PlanReport, SpaceCheck } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import { call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { navigate, routeHref } from '../../state/route';
import { EmptyState, ErrorMessage, LoadingCard } from '../../components/ErrorMessage';

import { PlanReportView } from '../../components/PlanReportView';
import { SpaceNote } from '../../components/SpaceNote';
import { formatCount, plural } from '../../format';
import { completedResult } from '../../state/job-result';
import { InlineJob } from '../../components/InlineJob';
import { DEFAULT_GENE_CHOICES, GeneOptions, geneRequestFields, type GeneChoices } from '../../components/GeneOptions';

export function ConcatScreen({ collection }: { collection?: string }) {
  const { library, trackJob, jobById } = useApp();
  const collections = library?.collections ?? [];
  const chosen = collection && collections.some((c) => c.key === collection) ? collection : (collections[0]?.key ?? null);
  const [storeKey, setStoreKey] = useState('');
  const [makeUnique, setMakeUnique] = useState(false);
  const [genes, setGenes] = useState<GeneChoices>(DEFAULT_GENE_CHOICES);
  const [plan, setPlan] = useState<PlanReport | null>(null);
  const [space, setSpace] = useState<SpaceCheck | null>(null);
  const [error, setError] = useState<ErrorValue | null>(null);
  const [loading, setLoading] = useState(false);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = jobById(jobId);
  const created = completedResult(job, 'concatenate');
  const { join, matchGenes } = genes;
  const collectionId = useId();
  const storeId = useId();

  useEffect(() => {
    setPlan(null);
    setSpace(null);
    setError(null);
    if (!chosen) return;
    setStoreKey((key) => key || `${chosen}-store`);
    let live = true;
    setLoading(true);
    // The plan is re-read whenever a choice changes: genes kept, merged and missing depend on it.
    Promise.all([call('concat:plan', { collectionKey: chosen, makeUnique, ...geneRequestFields({ join, matchGenes }) }), call('space:check', { collectionKey: chosen })])
      .then(
        ([p, s]) => {
          if (!live) return;
          setPlan(p);
          setSpace(s);
        },
        (err: unknown) => live && setError(toShownError(err)),
      )
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [chosen, makeUnique, join, matchGenes]);

  const storeExists = library?.stores.some((s) => s.key === storeKey.trim()) ?? false;
  const create = async () => {
    if (!chosen) return;
    setError(null);
    try {
      const snapshot = await call('concat:start', { collectionKey: chosen, storeKey: storeKey.trim(), ...(makeUnique ? { makeUnique } : {}), ...geneRequestFields(genes) });
      trackJob(snapshot);
      setJobId(snapshot.id);
    } catch (err) {
      setError(toShownError(err));
    }
  };
  const blocked = !plan || plan.problems.length > 0 || !storeKey.trim() || storeExists || job?.state === 'running';

  return (
    <>
      <header className="screen-header">
        <h1>Concatenate</h1>
        <p className="screen-lede">Turn a collection into one queryable store. Review what happens to every column first.</p>
      </header>
      {!library ? (
        <LoadingCard />
      ) : collections.length === 0 ? (
        <section className="card">
          <EmptyState>No collections yet — import datasets in the Library first.</EmptyState>
        </section>
      ) : (
        <section className="card" aria-label="Concatenation settings">
          <div className="form-row">
            <div className="field">
              <label htmlFor={collectionId}>Collection</label>
              <select id={collectionId} value={chosen ?? ''} onChange={(e) => navigate('concat', { collection: e.target.value })}>
                {collections.map((c) => (
                  <option key={c.uid} value={c.key}>
                    {c.key} ({plural(c.nArtifacts, 'file')})
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={storeId}>New store key</label>
              <input id={storeId} value={storeKey} onChange={(e) => setStoreKey(e.target.value)} autoComplete="off" aria-invalid={storeExists} />
            </div>
            <label className="checkbox">
              <input type="checkbox" checked={makeUnique} onChange={(e) => setMakeUnique(e.target.checked)} />
              Make duplicate cell ids unique (suffix them)
            </label>
          </div>
          <GeneOptions join={genes.join} matchGenes={genes.matchGenes} onChange={(next) => setGenes((prev) => ({ ...prev, ...next }))} />
          {storeExists && <p className="text-error">A store named {storeKey.trim()} already exists; choose another key or append to it.</p>}
          <ErrorMessage error={error} />
          {loading && <p className="muted">Planning…</p>}
          {plan && <PlanReportView report={plan} label="Concatenation plan" />}
          {space && <SpaceNote space={space} />}
          <div className="toolbar">
            <button type="button" className="button button-primary" disabled={blocked} onClick={() => void create()}>
              Create store
            </button>
            {plan && plan.problems.length > 0 && <span className="text-error">Fix the problems above before creating the store.</span>}
          </div>
          <InlineJob job={job}>
            {created && (
              <p data-testid="concat-done">
                Store <strong>{created.store.key}</strong> created: {formatCount(created.store.n_observations)} cells × {formatCount(created.store.n_vars)} genes.{' '}
                <a href={routeHref('store', { store: created.store.key })}>Open it →</a>
              </p>
            )}
          </InlineJob>
        </section>
      )}
    </>
  );
}
