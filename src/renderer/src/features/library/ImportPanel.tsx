// Import: add files (dialog, upload or drop), see each one checked, pick a collection, import.
import { useEffect, useId, useState } from 'react';
import type { ErrorValue } from '../../../../shared/errors';
import { useApp } from '../../state/AppState';
import { routeHref } from '../../state/route';
import { call, toShownError } from '../../api/call';
import { AddFilesButton, AddFolderButton } from '../../components/FileAdder';
import { ErrorMessage } from '../../components/ErrorMessage';

import { PendingFileList } from '../../components/PendingFileList';
import { InlineJob } from '../../components/InlineJob';

export function ImportPanel({ dropErrors, onDropErrors }: { dropErrors: ErrorValue[]; onDropErrors(errors: ErrorValue[]): void }) {
  const { library, importQueue, trackJob, jobById } = useApp();
  const [collectionKey, setCollectionKey] = useState('');
  const [description, setDescription] = useState('');
  const [jobId, setJobId] = useState<string | null>(null);
  const [startError, setStartError] = useState<ErrorValue | null>(null);
  const [importedTokens, setImportedTokens] = useState<string[]>([]);
  const [importedInto, setImportedInto] = useState('');
  const keyId = useId();
  const descriptionId = useId();
  const listId = useId();
  const job = jobById(jobId);

  const ready = importQueue.entries.filter((e) => e.status === 'ok');
  const checking = importQueue.entries.some((e) => e.status === 'checking');
  const badCount = importQueue.entries.filter((e) => e.status === 'error').length;

  // Once the import is done its files leave the queue.
  const { remove } = importQueue;
  useEffect(() => {
    if (job?.state === 'completed' && importedTokens.length) {
      importedTokens.forEach(remove);
      setImportedTokens([]);
    }
  }, [job?.state, importedTokens, remove]);

  const start = async () => {
    setStartError(null);
    try {
      const snapshot = await call('import:start', {
        fileTokens: ready.map((e) => e.file.fileToken),
        collectionKey: collectionKey.trim(),
        ...(description.trim() ? { description: description.trim() } : {}),
      });
      trackJob(snapshot);
      setJobId(snapshot.id);
      setImportedTokens(ready.map((e) => e.file.fileToken));
      setImportedInto(collectionKey.trim());
    } catch (err) {
      setStartError(toShownError(err));
    }
  };

  const disabledReason =
    ready.length === 0 ? 'Add at least one dataset.' : checking ? 'Wait until every file is checked.' : !collectionKey.trim() ? 'Enter a collection key.' : job?.state === 'running' ? 'An import is running.' : null;

  return (
    <section className="card" aria-labelledby="import-heading">
      <h2 id="import-heading">Import files</h2>
      <div className="toolbar">
        <AddFilesButton onFiles={importQueue.add} onErrors={onDropErrors} />
        <AddFolderButton onFiles={importQueue.add} onErrors={onDropErrors} />
        <span className="muted">or drop .h5ad, .h5 or .loom files on this page</span>
      </div>
      {dropErrors.map((e, i) => (
        <ErrorMessage key={i} error={e} />
      ))}
      <PendingFileList queue={importQueue} caption="Files to import" />
      {badCount > 0 && (
        <p className="message message-warning" role="status">
          {badCount === 1 ? 'One file cannot be read and will be left out.' : `${badCount} files cannot be read and will be left out.`} Remove {badCount === 1 ? 'it' : 'them'} or add other files.
        </p>
      )}
      {importQueue.entries.length > 0 && (
        <div className="form-row">
          <div className="field field-collection">
            <label htmlFor={keyId}>Collection</label>
            <input
              id={keyId}
              list={listId}
              value={collectionKey}
              placeholder="new or existing key"
              onChange={(e) => setCollectionKey(e.target.value)}
              autoComplete="off"
            />
            <datalist id={listId}>
              {library?.collections.map((c) => <option key={c.uid} value={c.key} />)}
            </datalist>
          </div>
          <div className="field field-wide">
            <label htmlFor={descriptionId}>Description (optional)</label>
            <input id={descriptionId} value={description} onChange={(e) => setDescription(e.target.value)} />
          </div>
          <div className="field field-action">
            <button type="button" className="button button-primary" disabled={disabledReason !== null} onClick={() => void start()} title={disabledReason ?? undefined}>
              Import {ready.length > 0 ? `${ready.length} ${ready.length === 1 ? 'file' : 'files'}` : ''}
            </button>
          </div>
        </div>
      )}
      <ErrorMessage error={startError} />
      <InlineJob job={job}>
        {job?.state === 'completed' && (
          <p>
            Imported into <strong>{importedInto}</strong>. <a href={routeHref('concat', { collection: importedInto })}>Review the concatenation plan →</a>
          </p>
        )}
      </InlineJob>
    </section>
  );
}
