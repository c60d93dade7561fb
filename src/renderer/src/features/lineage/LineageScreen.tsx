// Lineage: the graph of runs, files, collections, store versions, exports and embeddings
// around one item. A click on any node does one thing: its details in the side panel, with
// an Open button that goes to it (a store at that version, a file or collection in the
// Library, a run's output, the version an export came from, the store of an embedding).
import { useEffect, useId, useState } from 'react';
import type { LibraryListing, RunDetails, RunItem } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import type { Lineage, LineageNode } from '../../../../shared/registry-types';
import { call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { navigate } from '../../state/route';
import { EmptyState, ErrorMessage, LoadingCard } from '../../components/ErrorMessage';
import { LineageGraph } from '../../components/LineageGraph';
import { describeLineageNode } from '../../components/lineage-elements';
import { RunDetailsView, runItemLabel } from './RunDetailsView';

const STEM_LENGTH = 16;

/** Where a store-version node lives: its store's key and version (absent for the latest). */
function storeTarget(node: LineageNode, library: LibraryListing | null): { store: string; version?: string } | null {
  const store = library?.stores.find((s) => s.stem === node.id.slice(0, STEM_LENGTH));
  if (!store) return null;
  if (store.uid === node.id) return { store: store.key };
  const version = / v(\d+)/.exec(node.label)?.[1];
  return { store: store.key, version: version ?? node.id };
}

/** The nodes an edge links to a node: its inputs or makers ('to': edges into it), or what it fed ('from'). */
function linked(lineage: Lineage, id: string, direction: 'from' | 'to'): LineageNode[] {
  const ids = lineage.edges.filter((e) => (direction === 'to' ? e.to === id : e.from === id)).map((e) => (direction === 'to' ? e.from : e.to));
  return lineage.nodes.filter((n) => ids.includes(n.id));
}

/** Where Open goes for a node, or null when there is nowhere to go (a deleted item). */
function openTarget(node: LineageNode, lineage: Lineage, library: LibraryListing | null, run: RunDetails | null): { label: string; go: () => void } | null {
  if (node.deleted) return null;
  const storeNode = (n: LineageNode | undefined) => {
    const target = n ? storeTarget(n, library) : null;
    return target ? { label: `Open ${n!.label}`, go: () => navigate('store', target) } : null;
  };
  switch (node.kind) {
    case 'artifact':
      if (node.artifactKind === 'store') return storeNode(node);
      return { label: `Show ${node.label} in the Library`, go: () => navigate('library', { highlight: node.id }) };
    case 'collection':
      return { label: `Show ${node.label} in the Library`, go: () => navigate('library', { highlight: node.id }) };
    case 'run': {
      const output = run?.outputs.find((o) => !o.deleted);
      if (!output) return null;
      if (output.kind === 'artifact' && output.artifactKind === 'store') {
        return { label: `Open ${runItemLabel(output)}`, go: () => navigate('store', { store: output.key, version: output.isLatest || output.version === undefined ? undefined : String(output.version) }) };
      }
      return { label: `Show ${runItemLabel(output)} in the Library`, go: () => navigate('library', { highlight: output.uid }) };
    }
    case 'export': {
      const producer = linked(lineage, node.id, 'to')[0];
      return producer ? storeNode(linked(lineage, producer.id, 'to').find((n) => n.artifactKind === 'store')) : null;
    }
    case 'embedding': {
      const producer = linked(lineage, node.id, 'to')[0];
      const store = producer ? linked(lineage, producer.id, 'from').find((n) => n.artifactKind === 'store' && !n.deleted) : undefined;
      return store?.storeKey ? { label: `Open ${store.storeKey} in Embeddings`, go: () => navigate('embeddings', { store: store.storeKey }) } : null;
    }
  }
}

function NodeDetails({ node, lineage, library, run, runError, onOpenItem }: { node: LineageNode; lineage: Lineage; library: LibraryListing | null; run: RunDetails | null; runError: ErrorValue | null; onOpenItem(item: RunItem): void }) {
  // Until the newly clicked run's record arrives, the previous run's must not answer for it.
  const ownRun = run?.uid === node.id ? run : null;
  const target = openTarget(node, lineage, library, ownRun);
  return (
    <aside className="lineage-details" aria-label="Details" data-testid="lineage-details">
      <h2 data-testid="details-title">{node.label}</h2>
      <p className="muted">{describeLineageNode(node)}</p>
      {node.message && (
        <p className="lineage-details-message" data-testid="details-message">
          {node.message}
        </p>
      )}
      {node.kind === 'export' && node.path && (
        <p>
          Written to <code>{node.path}</code>
        </p>
      )}
      <div className="toolbar">
        <button type="button" className="button button-primary" disabled={!target} title={target?.label ?? (node.deleted ? 'Deleted: nothing to open' : 'Nothing to open')} onClick={() => target?.go()} data-testid="details-open">
          Open
        </button>
        {target && <span className="muted">{target.label}</span>}
      </div>
      {node.kind === 'run' && (
        <>
          <ErrorMessage error={runError} />
          {!ownRun && !runError && <p className="muted">Reading the run…</p>}
          {ownRun && <RunDetailsView run={ownRun} onOpen={onOpenItem} />}
        </>
      )}
    </aside>
  );
}

export function LineageScreen({ refUid }: { refUid?: string }) {
  const { library, focusStore } = useApp();
  const [lineage, setLineage] = useState<Lineage | null>(null);
  const [error, setError] = useState<ErrorValue | null>(null);
  const [selected, setSelected] = useState<LineageNode | null>(null);
  const [run, setRun] = useState<RunDetails | null>(null);
  const [runError, setRunError] = useState<ErrorValue | null>(null);
  const selectId = useId();

  const fallback = library?.stores.find((s) => s.key === focusStore)?.uid ?? library?.stores[0]?.uid ?? library?.collections[0]?.uid ?? library?.artifacts[0]?.uid;
  const chosen = refUid ?? fallback ?? null;
  const runUid = selected?.kind === 'run' ? selected.id : null;

  useEffect(() => {
    setSelected(null);
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
          {lineage && (
            <div className="lineage-layout">
              <LineageGraph lineage={lineage} onOpen={setSelected} height={440} />
              {selected ? (
                <NodeDetails node={selected} lineage={lineage} library={library} run={run} runError={runError} onOpenItem={openItem} />
              ) : (
                <aside className="lineage-details" aria-label="Details" data-testid="lineage-details">
                  <p className="muted">Click an item in the graph or the list to see what it is and what made it.</p>
                </aside>
              )}
            </div>
          )}
        </section>
      )}
    </>
  );
}
