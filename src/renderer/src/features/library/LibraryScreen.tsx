// Library: what the home holds (collections, h5ad files, stores) and the way in (import).
import { useEffect, useState } from 'react';
import type { ErrorValue } from '../../../../shared/errors';
import { useApp } from '../../state/AppState';
import { navigate, routeHref } from '../../state/route';
import { EmptyState, ErrorMessage } from '../../components/ErrorMessage';
import { formatBytes, formatCount, formatDate, plural } from '../../format';
import { DropZone } from '../../components/FileAdder';
import { ImportPanel } from './ImportPanel';
import { ExportsList } from './ExportsList';
import { ItemActions } from '../../components/ItemActions';
import { call, toShownError } from '../../api/call';
import { ACTIONS_COLUMN, ListTable } from '../../components/ListTable';

export function LibraryScreen({ highlight }: { highlight?: string }) {
  const { info, library, libraryError, importQueue, refreshLibrary } = useApp();
  const [dropErrors, setDropErrors] = useState<ErrorValue[]>([]);
  const [actionError, setActionError] = useState<ErrorValue | null>(null);

  const removeMember = async (collectionKey: string, member: string) => {
    setActionError(null);
    try {
      await call('collection:remove-member', { collectionKey, member });
      await refreshLibrary();
    } catch (err) {
      setActionError(toShownError(err));
    }
  };
  const inspect = async (ref: string) => {
    setActionError(null);
    try {
      const opened = await call('artifact:inspect', { ref });
      navigate('inspect', { token: opened.fileToken, name: opened.name, imported: opened.artifactKey });
    } catch (err) {
      setActionError(toShownError(err));
    }
  };

  useEffect(() => {
    if (highlight) document.querySelector(`[data-uid="${CSS.escape(highlight)}"]`)?.scrollIntoView({ block: 'center' });
  }, [highlight, library]);

  const rowClass = (uid: string) => (uid === highlight ? 'row-highlight' : undefined);

  return (
    <DropZone label="Library: drop dataset files (.h5ad, .h5, .loom) here to import them" onFiles={importQueue.add} onErrors={setDropErrors}>
      <header className="screen-header">
        <h1>Library</h1>
        <p className="screen-lede">Collections, files and stores in this home. Drop dataset files (.h5ad, 10x .h5, .loom) anywhere here to import them.</p>
        {info && (
          <p className="home-location" data-testid="home-location">
            Library folder: <code>{info.home}</code> (kept apart from the app&apos;s settings and cache)
          </p>
        )}
        {info?.homeNote && (
          <p className="notice" role="status" data-testid="home-note">
            {info.homeNote}
          </p>
        )}
      </header>
      <ErrorMessage error={libraryError} title="The library could not be read" />

      <ImportPanel dropErrors={dropErrors} onDropErrors={setDropErrors} />
      <ErrorMessage error={actionError} />

      <section className="card" aria-labelledby="collections-heading">
        <h2 id="collections-heading">Collections</h2>
        {!library ? (
          <p className="muted">Loading…</p>
        ) : library.collections.length === 0 ? (
          <EmptyState>No collections yet — add dataset files above and import them into a collection.</EmptyState>
        ) : (
          <ListTable testId="collections-table" columns={[{ label: 'Key' }, { label: 'Files' }, { label: 'Size', numeric: true }, { label: 'Created' }, ACTIONS_COLUMN]}>
            {library.collections.map((c) => (
              <tr key={c.uid} data-testid="collection" data-uid={c.uid} className={rowClass(c.uid)}>
                <td>
                  <strong data-testid="collection-key">{c.key}</strong>
                  {c.description && <div className="muted">{c.description}</div>}
                  <div className="members" data-testid="collection-members">
                    {c.members.length === 0
                      ? 'empty'
                      : c.members.map((m, i) => (
                          <span key={m.uid} className={m.deleted ? 'member-deleted' : undefined} title={m.deleted ? `${m.key} (deleted)` : `${m.key}: ${formatCount(m.nObservations)} cells`} data-testid="member">
                            {i > 0 && ', '}
                            {m.key}
                            {m.deleted && ' (deleted)'}
                            <button type="button" className="member-remove" aria-label={`Remove ${m.key} from ${c.key}`} title={`Remove ${m.key} from this collection (it stays in the Library)`} onClick={() => void removeMember(c.key, m.uid)} />
                          </span>
                        ))}
                  </div>
                </td>
                <td data-testid="collection-size">{plural(c.nArtifacts, 'file')}</td>
                <td className="num">{formatBytes(c.size)}</td>
                <td>{formatDate(c.createdAt)}</td>
                <td className="cell-actions">
                  <a className="button button-small" href={routeHref('concat', { collection: c.key })}>
                    Concatenate…
                  </a>
                  <a className="button button-small button-quiet" href={routeHref('lineage', { ref: c.uid })}>
                    Lineage
                  </a>
                  <ItemActions itemRef={c.uid} itemKey={c.key} what="collection" />
                </td>
              </tr>
            ))}
          </ListTable>
        )}
      </section>

      <section className="card" aria-labelledby="stores-heading">
        <h2 id="stores-heading">Stores</h2>
        {!library ? (
          <p className="muted">Loading…</p>
        ) : library.stores.length === 0 ? (
          <EmptyState>No stores yet — concatenate a collection to create one.</EmptyState>
        ) : (
          <ListTable testId="stores-table" columns={[{ label: 'Key' }, { label: 'Version' }, { label: 'Cells × genes' }, { label: 'Size', numeric: true }, { label: 'Updated' }, ACTIONS_COLUMN]}>
            {library.stores.map((s) => (
              <tr key={s.uid} data-testid="store" data-uid={s.uid} className={rowClass(s.uid)}>
                <td>
                  <strong data-testid="store-key">{s.key}</strong>
                </td>
                <td>
                  v{s.version} <span className="muted">of {s.nVersions}</span>
                </td>
                <td>
                  {formatCount(s.nObservations)} × {formatCount(s.nVars)}
                </td>
                <td className="num">{formatBytes(s.size)}</td>
                <td>{formatDate(s.createdAt)}</td>
                <td className="cell-actions">
                  <button type="button" className="button button-small" onClick={() => navigate('store', { store: s.key })}>
                    Open
                  </button>
                  <a className="button button-small button-quiet" href={routeHref('versions', { store: s.key })}>
                    Versions
                  </a>
                  <a className="button button-small button-quiet" href={routeHref('lineage', { ref: s.uid })}>
                    Lineage
                  </a>
                  <ItemActions itemRef={s.key} itemKey={s.key} what="store" />
                </td>
              </tr>
            ))}
          </ListTable>
        )}
      </section>

      <section className="card" aria-labelledby="files-heading">
        <h2 id="files-heading">h5ad files</h2>
        {!library ? (
          <p className="muted">Loading…</p>
        ) : library.artifacts.length === 0 ? (
          <EmptyState>No files imported yet.</EmptyState>
        ) : (
          <ListTable testId="artifacts-table" columns={[{ label: 'Key' }, { label: 'Cells', numeric: true }, { label: 'Genes', numeric: true }, { label: 'Size', numeric: true }, { label: 'Imported' }, ACTIONS_COLUMN]}>
            {library.artifacts.map((a) => (
              <tr key={a.uid} data-testid="artifact" data-uid={a.uid} className={rowClass(a.uid)}>
                <td>
                  <strong>{a.key}</strong>
                  {a.isLink && <span className="muted"> (linked)</span>}
                </td>
                <td className="num">{formatCount(a.nObservations)}</td>
                <td className="num">{formatCount(a.nVars)}</td>
                <td className="num">{formatBytes(a.size)}</td>
                <td>{formatDate(a.createdAt)}</td>
                <td className="cell-actions">
                  <button type="button" className="button button-small" aria-label={`Inspect ${a.key}`} onClick={() => void inspect(a.uid)}>
                    Inspect
                  </button>
                  <a className="button button-small button-quiet" href={routeHref('lineage', { ref: a.uid })}>
                    Lineage
                  </a>
                  <ItemActions itemRef={a.key} itemKey={a.key} what="file" />
                </td>
              </tr>
            ))}
          </ListTable>
        )}
      </section>

      <ExportsList />
    </DropZone>
  );
}
