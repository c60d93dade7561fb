// Append: new files checked against the store's schema (every problem at once), then
// appended as a new version — only once the check passes for exactly these inputs.
import { useEffect, useState } from 'react';
import type { PlanReport } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import { call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { usePendingFiles } from '../../state/pending-files';
import { navigate, routeHref } from '../../state/route';
import { AddFilesButton, AddFolderButton, DropZone } from '../../components/FileAdder';
import { LibraryFilePicker } from './LibraryFilePicker';
import { ErrorMessage } from '../../components/ErrorMessage';

import { PendingFileList } from '../../components/PendingFileList';
import { PlanReportView } from '../../components/PlanReportView';
import { StoreGate, StoreSelect, useChosenStore } from '../../components/StoreSelect';
import { formatCount, plural } from '../../format';
import { completedResult } from '../../state/job-result';
import { InlineJob } from '../../components/InlineJob';
import { GeneOptions, type GeneMatch } from '../../components/GeneOptions';

/** The matching only when it is not the default, so a default request stays as it was. */
function matchRequestField(matchGenes: GeneMatch): { matchGenes?: GeneMatch } {
  return matchGenes === 'exact' ? {} : { matchGenes };
}

export function AppendScreen({ store }: { store?: string }) {
  const { trackJob, jobById } = useApp();
  const storeKey = useChosenStore(store);
  const queue = usePendingFiles();
  const [fillMissing, setFillMissing] = useState(false);
  const [addColumns, setAddColumns] = useState(false);
  const [makeUnique, setMakeUnique] = useState(false);
  const [matchGenes, setMatchGenes] = useState<GeneMatch>('exact');
  const [report, setReport] = useState<{ signature: string; plan: PlanReport } | null>(null);
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<ErrorValue | null>(null);
  const [addErrors, setAddErrors] = useState<ErrorValue[]>([]);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = jobById(jobId);
  const appended = completedResult(job, 'append');

  // After an append the store has changed: the old check and files no longer apply.
  const { clear } = queue;
  useEffect(() => {
    if (job?.state === 'completed') {
      clear();
      setReport(null);
    }
  }, [job?.state, clear]);

  const ready = queue.entries.filter((e) => e.status === 'ok');
  const tokens = ready.map((e) => e.file.fileToken);
  const signature = JSON.stringify([storeKey, tokens, fillMissing, addColumns, makeUnique, matchGenes]);
  const current = report?.signature === signature ? report.plan : null;
  const baseOptions = { ...(fillMissing ? { fillMissing } : {}), ...(addColumns ? { addColumns } : {}), ...(makeUnique ? { makeUnique } : {}) };
  const options = { ...baseOptions, ...matchRequestField(matchGenes) };

  const check = async (target: { signature: string; options: typeof options } = { signature, options }) => {
    if (!storeKey) return;
    setError(null);
    setChecking(true);
    try {
      setReport({ signature: target.signature, plan: await call('append:preflight', { storeKey, fileTokens: tokens, ...target.options }) });
    } catch (err) {
      setReport(null);
      setError(toShownError(err));
    } finally {
      setChecking(false);
    }
  };

  const append = async () => {
    if (!storeKey) return;
    setError(null);
    try {
      const snapshot = await call('append:start', { storeKey, fileTokens: tokens, ...options });
      trackJob(snapshot);
      setJobId(snapshot.id);
    } catch (err) {
      setError(toShownError(err));
    }
  };

  const canAppend = current !== null && current.problems.length === 0 && job?.state !== 'running';
  const badFiles = queue.entries.filter((e) => e.status === 'error').length;

  return (
    <DropZone label="Append: drop dataset files (.h5ad, .h5, .loom) here" onFiles={queue.add} onErrors={setAddErrors}>
      <header className="screen-header">
        <h1>Append</h1>
        <p className="screen-lede">Add new datasets to a store as a new version. Nothing is written unless the check passes.</p>
      </header>
      <StoreGate storeKey={storeKey}>
        {(storeKey) => (
          <section className="card" aria-label="Append files">
            <div className="form-row">
              <StoreSelect value={storeKey} onChange={(key) => navigate('append', { store: key })} />
              <div className="field-action toolbar">
                <AddFilesButton onFiles={queue.add} onErrors={setAddErrors} />
                <AddFolderButton onFiles={queue.add} onErrors={setAddErrors} />
                <span className="muted">or drop .h5ad, .h5 or .loom files here</span>
              </div>
              <LibraryFilePicker onFiles={queue.add} onErrors={setAddErrors} />
            </div>
            {addErrors.map((e, i) => (
              <ErrorMessage key={i} error={e} />
            ))}
            <PendingFileList queue={queue} caption="Files to append" />
            {badFiles > 0 && <p className="message message-warning">Files that cannot be read are left out of the check.</p>}
            <fieldset className="options">
              <legend>Options</legend>
              <label className="checkbox">
                <input type="checkbox" checked={fillMissing} onChange={(e) => setFillMissing(e.target.checked)} />
                Fill missing columns with NA (--fill-missing)
              </label>
              <label className="checkbox">
                <input type="checkbox" checked={addColumns} onChange={(e) => setAddColumns(e.target.checked)} />
                Add new columns to the store, NA for its cells (--add-columns)
              </label>
              <label className="checkbox">
                <input type="checkbox" checked={makeUnique} onChange={(e) => setMakeUnique(e.target.checked)} />
                Make duplicate cell ids unique (--make-unique)
              </label>
            </fieldset>
            <GeneOptions
              matchGenes={matchGenes}
              onChange={(next) => {
                const chosen = next.matchGenes ?? matchGenes;
                setMatchGenes(chosen);
                // A check already shown is re-run with the new matching: merges and new genes depend on it.
                if (report)
                  void check({
                    signature: JSON.stringify([storeKey, tokens, fillMissing, addColumns, makeUnique, chosen]),
                    options: { ...baseOptions, ...matchRequestField(chosen) },
                  });
              }}
            />
            <div className="toolbar">
              <button type="button" className="button" disabled={ready.length === 0 || checking || queue.entries.some((e) => e.status === 'checking')} onClick={() => void check()}>
                {checking ? 'Checking…' : 'Check'}
              </button>
              <button type="button" className="button button-primary" disabled={!canAppend} onClick={() => void append()}>
                Append
              </button>
              {!current && ready.length > 0 && !checking && <span className="muted">Run the check before appending.</span>}
              {current && current.problems.length > 0 && <span className="text-error">Append stays disabled until the problems are fixed.</span>}
            </div>
            <ErrorMessage error={error} />
            {current && <PlanReportView report={current} label="Preflight report" />}
            <InlineJob job={job}>
              {appended && (
                <p data-testid="append-done">
                  Appended {plural(appended.plan.n_new_obs ?? 0, 'cell')} and {plural(appended.plan.n_new_vars ?? 0, 'new gene')}: {appended.store.key} version {appended.store.version} has{' '}
                  {formatCount(appended.store.n_observations)} cells × {formatCount(appended.store.n_vars)} genes.{' '}
                  <a href={routeHref('store', { store: appended.store.key })}>Open the new version →</a>
                </p>
              )}
            </InlineJob>
          </section>
        )}
      </StoreGate>
    </DropZone>
  );
}
