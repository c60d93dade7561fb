// Lineage: the graph of runs, files, collections and store versions around one item.
// Clicking a store opens it (at that version), a file or collection is shown in the
// Library, and a run shows what went in and what came out.
import { useEffect, useId, useState } from 'react';
import type { ErrorValue } from '../../../../shared/errors';
import type { Lineage, LineageNode, RegistryListing } from '../../../../shared/registry-types';
import { call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { navigate } from '../../state/route';
import { EmptyState, ErrorMessage, LoadingCard } from '../../components/ErrorMessage';
import { LineageGraph } from '../../components/LineageGraph';

const STEM_LENGTH = 16;

/** Where a store-version node lives: its store's key and version (absent for the latest). */
function storeTarget(node: LineageNode, library: RegistryListing | null): { store: string; version?: string } | null {
  const store = library?.stores.find((s) => s.stem === node.id.slice(0, STEM_LENGTH));
  if (!store) return null;
  if (store.uid === node.id) return { store: store.key };
  const version = / v(\d+)/.exec(node.label)?.[1];
  return { store: store.key, version: version ?? node.id };
}

function RunDetails({ run, lineage, onOpen }: { run: LineageNode; lineage: Lineage; onOpen(node: LineageNode): void }) {
  const byId = new Map(lineage.nodes.map((n) => [n.id, n]));
  const inputs = lineage.edges.filter((e) => e.to === run.id).map((e) => byId.get(e.from)).filter((n): n is LineageNode => !!n);
  const outputs = lineage.edges.filter((e) => e.from === run.id).map((e) => byId.get(e.to)).filter((n): n is LineageNode => !!n);
  const list = (nodes: LineageNode[]) =>
    nodes.length === 0 ? (
      <span className="muted">none recorded here</span>
    ) : (
      <ul className="inline-list">
        {nodes.map((n) => (
          <li key={n.id}>
            <button type="button" className="button button-small button-quiet" onClick={() => onOpen(n)}>
              {n.label}
            </button>
          </li>
        ))}
      </ul>
    );
  return (
    <section className="run-details" aria-label="Run details" data-testid="run-details">
      <h3>
        Run: {run.label} <span className={`badge badge-${run.status ?? 'completed'}`}>{run.status ?? 'unknown'}</span>
      </h3>
      <dl className="facts">
        <div>
          <dt>Run id</dt>
          <dd>
            <code>{run.id}</code>
          </dd>
        </div>
        <div>
          <dt>Inputs</dt>
          <dd>{list(inputs)}</dd>
        </div>
        <div>
          <dt>Outputs</dt>
          <dd>{list(outputs)}</dd>
        </div>
      </dl>
    </section>
  );
}

export function LineageScreen({ refUid }: { refUid?: string }) {
  const { library, focusStore } = useApp();
  const [lineage, setLineage] = useState<Lineage | null>(null);
  const [error, setError] = useState<ErrorValue | null>(null);
  const [run, setRun] = useState<LineageNode | null>(null);
  const selectId = useId();

  const fallback = library?.stores.find((s) => s.key === focusStore)?.uid ?? library?.stores[0]?.uid ?? library?.collections[0]?.uid ?? library?.artifacts[0]?.uid;
  const chosen = refUid ?? fallback ?? null;

  useEffect(() => {
    setRun(null);
    setLineage(null);
  }, [chosen]);

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
    if (node.kind === 'run') return setRun(node);
    if (node.deleted) return setRun(null);
    if (node.artifactKind === 'store') {
      const target = storeTarget(node, library);
      if (target) return navigate('store', target);
    }
    navigate('library', { highlight: node.id });
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
          {run && lineage && <RunDetails run={run} lineage={lineage} onOpen={open} />}
        </section>
      )}
    </>
  );
}
