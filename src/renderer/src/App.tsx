import { useEffect, useState } from 'react';
import type { AppInfo } from '../../shared/contract';
import { api } from './api/client';

export function App() {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void api.invoke('app:info', undefined).then((r) => (r.ok ? setInfo(r.value) : setError(r.error.message)));
  }, []);
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 24 }}>
      <h1>Cellar</h1>
      {error && <p role="alert">{error}</p>}
      {info ? <p>Library at {info.home}</p> : !error && <p>Loading…</p>}
    </main>
  );
}
