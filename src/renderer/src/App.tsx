import { useEffect, useState } from 'react';
import type { AppInfo } from '../../shared/contract';
import type { RegistryListing } from '../../shared/registry-types';
import { api } from './api/client';

export function App() {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [library, setLibrary] = useState<RegistryListing | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void api.invoke('app:info', undefined).then((r) => (r.ok ? setInfo(r.value) : setError(r.error.message)));
    void api.invoke('library:list', undefined).then((r) => (r.ok ? setLibrary(r.value) : setError(r.error.message)));
  }, []);
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 24 }}>
      <h1>Cellar</h1>
      {error && <p role="alert">{error}</p>}
      {info && <p>Library at {info.home}</p>}
      {library && (
        <section aria-label="Library">
          <h2>Collections</h2>
          {library.collections.length === 0 ? <p>No collections yet.</p> : (
            <ul>{library.collections.map((c) => <li key={c.uid} data-testid="collection">{c.key} ({c.nArtifacts} files)</li>)}</ul>
          )}
          <h2>Stores</h2>
          {library.stores.length === 0 ? <p>No stores yet.</p> : (
            <ul>{library.stores.map((s) => <li key={s.uid} data-testid="store">{s.key} v{s.version} ({s.nObservations ?? 0} cells)</li>)}</ul>
          )}
        </section>
      )}
    </main>
  );
}
