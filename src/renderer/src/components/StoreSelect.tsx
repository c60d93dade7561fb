import { useEffect, useId, type ReactNode } from 'react';
import { useApp } from '../state/AppState';
import { formatCount } from '../format';
import { EmptyState, LoadingCard } from './ErrorMessage';

/** The store a screen works on: the route's, else the one last used, else the first. */
export function useChosenStore(fromRoute: string | undefined): string | null {
  const { library, focusStore, setFocusStore } = useApp();
  const keys = library?.stores.map((s) => s.key) ?? [];
  const chosen = fromRoute && (keys.includes(fromRoute) || !library) ? fromRoute : focusStore && keys.includes(focusStore) ? focusStore : (keys[0] ?? null);
  useEffect(() => {
    if (chosen && chosen !== focusStore) setFocusStore(chosen);
  }, [chosen, focusStore, setFocusStore]);
  return chosen;
}

export function StoreSelect({ value, onChange }: { value: string | null; onChange(key: string): void }) {
  const { library } = useApp();
  const id = useId();
  const stores = library?.stores ?? [];
  return (
    <div className="field">
      <label htmlFor={id}>Store</label>
      <select id={id} value={value ?? ''} onChange={(e) => onChange(e.target.value)} disabled={stores.length === 0}>
        {stores.length === 0 && <option value="">No stores yet</option>}
        {stores.map((s) => (
          <option key={s.uid} value={s.key}>
            {s.key} (latest v{s.version}, {formatCount(s.nObservations)} cells)
          </option>
        ))}
      </select>
    </div>
  );
}

/** The body of a screen that works on a store: loading, the empty state when there is none, else the screen for the chosen store. */
export function StoreGate({ storeKey, children }: { storeKey: string | null; children: (storeKey: string) => ReactNode }) {
  const { library } = useApp();
  if (!library) return <LoadingCard />;
  if (!storeKey) {
    return (
      <section className="card">
        <EmptyState>No stores yet — concatenate a collection to create one.</EmptyState>
      </section>
    );
  }
  return <>{children(storeKey)}</>;
}
