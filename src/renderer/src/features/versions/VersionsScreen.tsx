// Versions: every version of a store, each with what made it in words; open one (read-only
// when old), diff two, restore one.
import { useEffect, useState } from 'react';
import type { ErrorValue } from '../../../../shared/errors';
import type { StoreDiff } from '../../../../shared/contract';
import type { VersionJson } from '../../../../shared/registry-types';
import { call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { navigate } from '../../state/route';
import { ErrorMessage } from '../../components/ErrorMessage';
import { StoreGate, StoreSelect, useChosenStore } from '../../components/StoreSelect';
import { formatBytes, formatCount, formatDate } from '../../format';
import { useVersions } from '../store/StoreScreen';
import { DiffView } from './DiffView';

export function VersionsScreen({ store }: { store?: string }) {
  const { library, refreshLibrary } = useApp();
  const storeKey = useChosenStore(store);
  const latestUid = library?.stores.find((s) => s.key === storeKey)?.uid;
  const { versions, error: listError } = useVersions(storeKey, latestUid);
  const [selected, setSelected] = useState<number[]>([]);
  const [diff, setDiff] = useState<StoreDiff | null>(null);
  const [confirming, setConfirming] = useState<VersionJson | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<ErrorValue | null>(null);

  useEffect(() => {
    setSelected([]);
    setDiff(null);
    setConfirming(null);
    setNotice(null);
  }, [storeKey]);

  const toggle = (version: number) =>
    setSelected((prev) => (prev.includes(version) ? prev.filter((v) => v !== version) : [...prev.slice(-1), version]));

  const runDiff = async () => {
    if (!storeKey || selected.length !== 2) return;
    const [a, b] = [...selected].sort((x, y) => x - y) as [number, number];
    setError(null);
    setDiff(null);
    try {
      setDiff(await call('versions:diff', { storeKey, a: String(a), b: String(b) }));
    } catch (err) {
      setError(toShownError(err));
    }
  };

  const restore = async (v: VersionJson) => {
    if (!storeKey) return;
    setError(null);
    setConfirming(null);
    try {
      const r = await call('versions:restore', { storeKey, version: String(v.version) });
      setNotice(`Version ${v.version} restored as version ${r.store.version}, now the latest.`);
      setSelected([]);
      setDiff(null);
      await refreshLibrary();
    } catch (err) {
      setError(toShownError(err));
    }
  };

  return (
    <>
      <header className="screen-header">
        <h1>Versions</h1>
        <p className="screen-lede">Every write makes a new version; every version stays readable.</p>
      </header>
      <StoreGate storeKey={storeKey}>
        {(storeKey) => (
          <section className="card" aria-label="Versions">
            <div className="form-row">
              <StoreSelect value={storeKey} onChange={(key) => navigate('versions', { store: key })} />
            </div>
            <ErrorMessage error={listError} />
            {notice && (
              <p className="message message-ok" role="status">
                {notice}
              </p>
            )}
            <div className="table-scroll">
              <table className="table table-sticky-first" data-testid="versions-table">
                <caption className="visually-hidden">Versions of {storeKey}, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Diff</th>
                    <th scope="col">Version</th>
                    <th scope="col">What it did</th>
                    <th scope="col">Created</th>
                    <th scope="col" className="num">Cells</th>
                    <th scope="col" className="num">Files</th>
                    <th scope="col" className="num">Size</th>
                    <th scope="col">Hash</th>
                    <th scope="col">Made by</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {versions.map((v) => (
                    <tr key={v.uid} data-testid="version-row" data-version={v.version}>
                      <td>
                        <input type="checkbox" checked={selected.includes(v.version)} onChange={() => toggle(v.version)} aria-label={`Select version ${v.version} for diff`} />
                      </td>
                      <td>
                        <strong>v{v.version}</strong> {v.is_latest && <span className="badge badge-completed">latest</span>}
                      </td>
                      <td className="version-message" data-testid="version-message">
                        {v.message ?? '—'}
                      </td>
                      <td>{formatDate(v.created_at)}</td>
                      <td className="num">{formatCount(v.n_observations)}</td>
                      <td className="num">{formatCount(v.n_files)}</td>
                      <td className="num">{formatBytes(v.size)}</td>
                      <td>
                        <code className="hash" title={v.hash}>
                          {v.hash.slice(0, 10)}…
                        </code>
                      </td>
                      <td>{v.run?.transform ?? '—'}</td>
                      <td className="cell-actions">
                        <button type="button" className="button button-small" onClick={() => navigate('store', { store: storeKey, version: v.is_latest ? undefined : String(v.version) })}>
                          Open
                        </button>
                        {!v.is_latest && (
                          <button type="button" className="button button-small button-quiet" onClick={() => setConfirming(v)}>
                            Restore…
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {confirming && (
              <div className="message message-warning confirm" role="alertdialog" aria-labelledby="restore-question">
                <p id="restore-question">
                  Restore version {confirming.version}? It becomes a new latest version with the same content; nothing is copied and no version is lost.
                </p>
                <div className="toolbar">
                  <button type="button" className="button button-primary" onClick={() => void restore(confirming)} autoFocus>
                    Restore version {confirming.version}
                  </button>
                  <button type="button" className="button" onClick={() => setConfirming(null)}>
                    Cancel
                  </button>
                </div>
              </div>
            )}
            <div className="toolbar">
              <button type="button" className="button" disabled={selected.length !== 2} onClick={() => void runDiff()}>
                Diff selected
              </button>
              <span className="muted">{selected.length === 2 ? `Version ${Math.min(...selected)} → ${Math.max(...selected)}` : 'Select two versions to compare them.'}</span>
            </div>
            <ErrorMessage error={error} />
            {diff && <DiffView diff={diff} />}
          </section>
        )}
      </StoreGate>
    </>
  );
}
