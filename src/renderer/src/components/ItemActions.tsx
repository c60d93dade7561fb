// Rename and delete of a Library item (collection, file or store), in place. A delete is
// asked for once; when something was made from the item the registry refuses and says
// what, and only an explicit "delete anyway" (the CLI's --force) goes ahead.
import { useId, useState } from 'react';
import type { ErrorValue } from '../../../shared/errors';
import { call, toShownError } from '../api/call';
import { useApp } from '../state/AppState';
import { ErrorMessage } from './ErrorMessage';

type Mode = 'idle' | 'rename' | 'delete' | 'force';

export function ItemActions({ itemRef, itemKey, what }: { itemRef: string; itemKey: string; what: string }) {
  const { refreshLibrary } = useApp();
  const [mode, setMode] = useState<Mode>('idle');
  const [newKey, setNewKey] = useState(itemKey);
  const [error, setError] = useState<ErrorValue | null>(null);
  const [busy, setBusy] = useState(false);
  const inputId = useId();

  const close = () => {
    setMode('idle');
    setError(null);
    setNewKey(itemKey);
  };
  const run = async (work: () => Promise<unknown>, onError?: (e: ErrorValue) => void) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      close();
      await refreshLibrary();
    } catch (err) {
      const shown = toShownError(err);
      // The registry words its refusal for the CLI; here the button below is the way on.
      setError(shown.code === 'in_use' ? { ...shown, message: shown.message.replace(/; delete those first or pass --force.*$/, ':') } : shown);
      onError?.(shown);
    } finally {
      setBusy(false);
    }
  };

  if (mode === 'idle') {
    return (
      <>
        <button type="button" className="button button-small button-quiet" aria-label={`Rename ${itemKey}`} onClick={() => setMode('rename')}>
          Rename…
        </button>
        <button type="button" className="button button-small button-quiet button-danger" aria-label={`Delete ${itemKey}`} onClick={() => setMode('delete')}>
          Delete…
        </button>
      </>
    );
  }
  return (
    <div className="item-action-panel" role="group" aria-label={`${mode === 'rename' ? 'Rename' : 'Delete'} ${itemKey}`} data-testid="item-action">
      {mode === 'rename' ? (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void run(() => call('artifact:rename', { ref: itemRef, newKey: newKey.trim() }));
          }}
        >
          <label htmlFor={inputId}>New key for {what} {itemKey}</label>
          <input id={inputId} value={newKey} autoFocus onChange={(e) => setNewKey(e.target.value)} />
          <button type="submit" className="button button-small button-primary" disabled={busy || !newKey.trim() || newKey.trim() === itemKey}>
            Rename
          </button>
          <button type="button" className="button button-small" onClick={close}>
            Keep the name
          </button>
        </form>
      ) : (
        <>
          <p>
            {mode === 'force' ? (
              <>
                Other items were made from {what} <strong>{itemKey}</strong>. Deleting it anyway keeps them, and lineage shows {itemKey} as deleted.
              </>
            ) : (
              <>
                Delete {what} <strong>{itemKey}</strong>? Its files leave the home; lineage keeps a tombstone.
              </>
            )}
          </p>
          <div className="toolbar">
            {mode === 'force' ? (
              <button type="button" className="button button-small button-danger-solid" disabled={busy} onClick={() => void run(() => call('artifact:delete', { ref: itemRef, force: true }))}>
                Delete anyway
              </button>
            ) : (
              <button
                type="button"
                className="button button-small button-danger-solid"
                disabled={busy}
                onClick={() => void run(() => call('artifact:delete', { ref: itemRef }), (e) => e.code === 'in_use' && setMode('force'))}
              >
                Delete
              </button>
            )}
            <button type="button" className="button button-small" onClick={close}>
              Keep it
            </button>
          </div>
        </>
      )}
      <ErrorMessage error={error} />
    </div>
  );
}
