// The store's upkeep, as the CLI has it: annotate from a CSV (a preview with the id-match
// report first, the write only when the table fits), verify (and repair leftovers), and
// compact (the space it frees and needs shown, and a confirmation).
import { useEffect, useState } from 'react';
import type { AnnotationPreview, OpenedFile, SpaceCheck, StoreSummary } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import { call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { completedResult } from '../../state/job-result';
import { AddFilesButton, DropZone } from '../../components/FileAdder';
import { ErrorMessage } from '../../components/ErrorMessage';

import { SpaceNote } from '../../components/SpaceNote';
import { formatBytes, formatCount, plural } from '../../format';
import { InlineJob } from '../../components/InlineJob';
import { useStartedJob } from '../../state/use-started-job';

function AnnotatePanel({ summary }: { summary: StoreSummary }) {
  const [file, setFile] = useState<OpenedFile | null>(null);
  const [preview, setPreview] = useState<AnnotationPreview | null>(null);
  const [errors, setErrors] = useState<ErrorValue[]>([]);
  const { job, start, error } = useStartedJob();
  const done = completedResult(job, 'annotate');

  const choose = async (files: OpenedFile[]) => {
    const chosen = files[files.length - 1];
    if (!chosen) return;
    setFile(chosen);
    setPreview(null);
    setErrors([]);
    try {
      setPreview(await call('annotate:preview', { storeKey: summary.key, fileToken: chosen.fileToken }));
    } catch (err) {
      setErrors([toShownError(err)]);
    }
  };

  return (
    <DropZone label="Annotate: drop a CSV or TSV keyed by obs_id here" onFiles={(f) => void choose(f)} onErrors={setErrors}>
      <section className="card" aria-labelledby="annotate-heading" data-testid="annotate">
        <h2 id="annotate-heading">Annotate cells from a table</h2>
        <p className="muted">A CSV or TSV with an <code>obs_id</code> column naming the cells; its other columns become cell columns in a new version. Cells without a row get NA.</p>
        <div className="toolbar">
          <AddFilesButton label="Choose a table…" accept=".csv,.tsv,.txt,.tab" inputLabel="Choose a CSV or TSV table" testId="annotate-file-input" onFiles={(f) => void choose(f)} onErrors={setErrors} />
          <span className="muted">or drop it here</span>
          {file && <code data-testid="annotate-file">{file.name}</code>}
        </div>
        {errors.map((e, i) => (
          <ErrorMessage key={i} error={e} title="This table cannot be used" />
        ))}
        {preview && (
          <div data-testid="annotate-preview">
            <p data-testid="annotate-match">
              {formatCount(preview.n_matched)} of {formatCount(preview.n_rows)} rows match cells of {preview.store.key} v{preview.store.version}; {formatCount(preview.n_missing)} of its {formatCount(preview.store.n_obs)} cells have no row and get NA.
              {preview.n_unknown > 0 && ` ${plural(preview.n_unknown, 'row names a cell', 'rows name cells')} the store does not have.`}
            </p>
            <table className="table table-compact">
              <caption>Columns it adds</caption>
              <thead>
                <tr>
                  <th scope="col">Column</th>
                  <th scope="col">Type</th>
                  <th scope="col">Examples</th>
                  <th scope="col">Effect</th>
                </tr>
              </thead>
              <tbody>
                {preview.columns.map((c) => (
                  <tr key={c.name} data-testid="annotate-column">
                    <td>
                      <code>{c.name}</code>
                    </td>
                    <td>{c.dtype}</td>
                    <td>{c.examples.join(', ')}</td>
                    <td>{c.replaced ? 'replaces the existing column' : 'new column'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {preview.problems.length > 0 && (
              <div className="message message-error" role="alert" data-testid="annotate-problems">
                <strong className="message-title">Fix the table before writing it</strong>
                <ul className="problem-list">
                  {preview.problems.map((p, i) => (
                    <li key={i}>{p}</li>
                  ))}
                </ul>
                {preview.unknown_ids.length > 0 && (
                  <p>
                    Unknown ids{preview.n_unknown > preview.unknown_ids.length ? ` (first ${preview.unknown_ids.length})` : ''}: {preview.unknown_ids.join(', ')}
                  </p>
                )}
              </div>
            )}
            <div className="toolbar">
              <button
                type="button"
                className="button button-primary"
                disabled={preview.problems.length > 0 || !summary.isLatest || job?.state === 'running' || !!done}
                onClick={() => void start(() => call('annotate:start', { storeKey: summary.key, fileToken: file!.fileToken }))}
              >
                Write the annotation
              </button>
            </div>
          </div>
        )}
        <ErrorMessage error={error} />
        <InlineJob job={job}>
          {done && (
            <p data-testid="annotate-done">
              Annotated {formatCount(done.n_matched)} cells: {done.columns.map((c) => c.name).join(', ')} in version {done.store.version}.
            </p>
          )}
        </InlineJob>
      </section>
    </DropZone>
  );
}

function VerifyPanel({ summary }: { summary: StoreSummary }) {
  const { job, start, error } = useStartedJob();
  const report = completedResult(job, 'verify');
  return (
    <section className="card" aria-labelledby="verify-heading" data-testid="verify">
      <h2 id="verify-heading">Check the store</h2>
      <p className="muted">Reads every file of every version and compares it with its checksum and manifest. Repair removes leftovers of interrupted writes; it never touches a file a version needs.</p>
      <div className="toolbar">
        <button type="button" className="button" disabled={job?.state === 'running'} onClick={() => void start(() => call('store:verify', { storeKey: summary.key }))}>
          Verify
        </button>
        <button type="button" className="button" disabled={job?.state === 'running'} onClick={() => void start(() => call('store:verify', { storeKey: summary.key, fix: true }))}>
          Verify and repair
        </button>
      </div>
      <ErrorMessage error={error} />
      <InlineJob job={job} />
      {report && (
        <div className={`message ${report.ok ? 'message-ok' : 'message-error'}`} role="status" data-testid="verify-report">
          <p data-testid="verify-verdict">
            {report.ok
              ? `${report.store.key}: ${plural(report.versions.length, 'version')} checked — every file matches its checksum and its manifest.`
              : `${report.store.key} failed the check: ${plural(report.problems.length, 'problem')}.`}
          </p>
          {report.problems.length > 0 && (
            <ul className="problem-list">
              {report.problems.map((p, i) => (
                <li key={i}>{p}</li>
              ))}
            </ul>
          )}
          {!report.ok && report.repaired && <p>Repair cannot fix these: the files they name must come back from a copy of the store.</p>}
          {report.removed.length > 0 && <p data-testid="verify-removed">Removed {plural(report.removed.length, 'leftover file')}: {report.removed.join(', ')}.</p>}
          {!report.repaired && report.garbage.length > 0 && (
            <p data-testid="verify-garbage">
              {plural(report.garbage.length, 'leftover file')} from an interrupted write: {report.garbage.join(', ')}. “Verify and repair” removes {report.garbage.length === 1 ? 'it' : 'them'}.
            </p>
          )}
          {report.kept.map((k, i) => (
            <p key={i}>{k}</p>
          ))}
        </div>
      )}
    </section>
  );
}

function CompactPanel({ summary }: { summary: StoreSummary }) {
  const { library } = useApp();
  const { job, start, error } = useStartedJob();
  const [asking, setAsking] = useState(false);
  const [space, setSpace] = useState<SpaceCheck | null>(null);
  const done = completedResult(job, 'compact');
  const store = library?.stores.find((s) => s.key === summary.key);
  useEffect(() => {
    if (!asking) return;
    let live = true;
    call('space:check', { storeKey: summary.key }).then(
      (s) => live && setSpace(s),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [asking, summary.key]);
  return (
    <section className="card" aria-labelledby="compact-heading" data-testid="compact">
      <h2 id="compact-heading">Compact</h2>
      <p className="muted">Rewrites the latest version into fresh files and drops every older version, which frees the space only they use.</p>
      {!asking ? (
        <button type="button" className="button" disabled={job?.state === 'running' || !summary.isLatest} onClick={() => setAsking(true)}>
          Compact…
        </button>
      ) : (
        <div className="item-action-panel" role="group" aria-label="Confirm compaction">
          <p data-testid="compact-confirm">
            Compacting <strong>{summary.key}</strong> keeps version {store?.version ?? summary.version} only: {store && store.nVersions > 1 ? `the ${plural(store.nVersions - 1, 'older version')} can no longer be opened or restored.` : 'it has no older versions.'} The store takes {formatBytes(store?.size ?? null)} now.
          </p>
          {space && <SpaceNote space={space} />}
          <div className="toolbar">
            <button
              type="button"
              className="button button-danger-solid"
              onClick={() => {
                setAsking(false);
                void start(() => call('store:compact', { storeKey: summary.key, confirm: true }));
              }}
            >
              Compact and drop older versions
            </button>
            <button type="button" className="button" onClick={() => setAsking(false)}>
              Keep every version
            </button>
          </div>
        </div>
      )}
      <ErrorMessage error={error} />
      <InlineJob job={job} />
      {done && (
        <p data-testid="compact-done">
          Compacted {done.store.key}: version {done.store.version} kept, {plural(done.dropped_versions, 'older version')} dropped; {formatBytes(done.bytes_before)} → {formatBytes(done.bytes_after)}.
          {done.deferred ? ` Old files kept for now: ${done.deferred}.` : ''}
        </p>
      )}
    </section>
  );
}

export function StoreTools({ summary }: { summary: StoreSummary }) {
  return (
    <>
      {/* Keyed by the store, not the version: the version its own write makes keeps the job on screen. */}
      <AnnotatePanel key={summary.key} summary={summary} />
      <VerifyPanel summary={summary} />
      <CompactPanel summary={summary} />
    </>
  );
}
