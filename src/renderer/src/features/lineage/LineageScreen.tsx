// Lineage: the graph of runs, files, collections and store versions around one item.
// Clicking a store opens it (at that version), a file or collection is shown in the
// Library, and a run shows its details: transform, parameters, status, times, inputs, outputs.
import { useEffect, useId, useState } from 'react';
import type { LibraryListing, RunDetails, RunItem } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import type { Lineage, LineageNode } from '../../../../shared/registry-types';
import { call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { navigate } from '../../state/route';
import { EmptyState, ErrorMessage, LoadingCard } from '../../components/ErrorMessage';
import { LineageGraph } from '../../components/LineageGraph';
import { RunDetailsView } from './RunDetailsView';

const STEM_LENGTH = 16;

/** Where a store-version node lives: its store's key and version (absent for the latest). */
function storeTarget(node: LineageNode, library: LibraryListing | null): { store: string; version?: string } | null {
  const store = library?.stores.find((s) => s.stem === node.id.slice(0, STEM_LENGTH));
  if (!store) return null;
  if (store.uid === node.id) return { store: store.key };
  const version = / v(\d+)/.exec(node.label)?.[1];
  return { store: store.key, version: version ?? node.id };
}

export function LineageScreen({ refUid }: { refUid?: string }) {
  const { library, focusStore } = useApp();
  const [lineage, setLineage] = useState<Lineage | null>(null);
  const [error, setError] = useState<ErrorValue | null>(null);
  const [runUid, setRunUid] = useState<string | null>(null);
  const [run, setRun] = useState<RunDetails | null>(null);
  const [runError, setRunError] = useState<ErrorValue | null>(null);
  const selectId = useId();

  const fallback = library?.stores.find((s) => s.key === focusStore)?.uid ?? library?.stores[0]?.uid ?? library?.collections[0]?.uid ?? library?.artifacts[0]?.uid;
  const chosen = refUid ?? fallback ?? null;

  useEffect(() => {
    setRunUid(null);
    setLineage(null);
  }, [chosen]);

  useEffect(() => {
    setRun(null);
    setRunError(null);
    if (!runUid) return;
    let live = true;
    call('run:get', { uid: runUid }).then(
      (r) => live && setRun(r),
      (err: unknown) => live && setRunError(toShownError(err)),
    );
    return () => {
      live = false;
    };
  }, [runUid, library]);

  useEffect(() => {
    setError(null);
    if (!chosen) return;
    let live = true;
    call('lineage:get', { ref: chosen }).then(
      (l) => live && setLineage(l),
      (err: unknown) => live && setError(toShownError(err)),
    );
    return () => {
      live = false;
    };
  }, [chosen, library]);

  const open = (node: LineageNode) => {
    if (node.kind === 'run') return setRunUid(node.id);
    if (node.deleted) return setRunUid(null);
    if (node.artifactKind === 'store') {
      const target = storeTarget(node, library);
      if (target) return navigate('store', target);
    }
    navigate('library', { highlight: node.id });
  };

  // A run's inputs and outputs name their store version exactly.
  const openItem = (item: RunItem) => {
    if (item.deleted) return;
    if (item.kind === 'artifact' && item.artifactKind === 'store') {
      return navigate('store', { store: item.key, version: item.isLatest || item.version === undefined ? undefined : String(item.version) });
    }
    navigate('library', { highlight: item.uid });
  };

  const known = [...(library?.stores ?? []), ...(library?.collections ?? []), ...(library?.artifacts ?? [])].some((x) => x.uid === chosen);
  return (
    <>
      <header className="screen-header">
        <h1>Lineage</h1>
        <p className="screen-lede">Where an item came from and what was made from it: inputs → run → outputs.</p>
      </header>
      {!library ? (
        <LoadingCard />
      ) : !chosen ? (
        <section className="card">
          <EmptyState>Nothing to trace yet — import files to start a lineage.</EmptyState>
        </section>
      ) : (
        <section className="card" aria-label="Lineage graph">
          <div className="form-row">
            <div className="field field-trace">
              <label htmlFor={selectId}>Trace</label>
              <select id={selectId} value={chosen} onChange={(e) => navigate('lineage', { ref: e.target.value })}>
                {!known && <option value={chosen}>{chosen}</option>}
                {library && library.stores.length > 0 && (
                  <optgroup label="Stores (latest version)">
                    {library.stores.map((s) => (
                      <option key={s.uid} value={s.uid}>
                        {s.key} v{s.version}
                      </option>
                    ))}
                  </optgroup>
                )}
                {library && library.collections.length > 0 && (
                  <optgroup label="Collections">
                    {library.collections.map((c) => (
                      <option key={c.uid} value={c.uid}>
                        {c.key}
                      </option>
                    ))}
                  </optgroup>
                )}
                {library && library.artifacts.length > 0 && (
                  <optgroup label="h5ad files">
                    {library.artifacts.map((a) => (
                      <option key={a.uid} value={a.uid}>
                        {a.key}
                      </option>
                    ))}
                  </optgroup>
                )}
              </select>
            </div>
          </div>
          <ErrorMessage error={error} />
          {!lineage && !error && <p className="muted">Tracing…</p>}
          {lineage && <LineageGraph lineage={lineage} onOpen={open} height={440} />}
          <ErrorMessage error={runError} />
          {runUid && !run && !runError && <p className="muted">Reading the run…</p>}
          {run && <RunDetailsView run={run} onOpen={openItem} />}
        </section>
      )}
    </>
  );
}
