// Exports: every finished export stays here, downloadable again after the Store screen is
// left (browser mode: the files kept in the home; desktop: this session's exports and where
// they were saved).
import { useEffect, useState } from 'react';
import type { ExportFile } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import { call, toShownError } from '../../api/call';
import { downloadExport, isBrowserMode } from '../../api/client';
import { useApp } from '../../state/AppState';
import { completedResult } from '../../state/job-result';
import { EmptyState, ErrorMessage } from '../../components/ErrorMessage';
import { formatBytes, formatCount, formatDate } from '../../format';
import { ACTIONS_COLUMN, ListTable } from '../../components/ListTable';

export function ExportsList() {
  const { jobs } = useApp();
  const [files, setFiles] = useState<ExportFile[] | null>(null);
  const [error, setError] = useState<ErrorValue | null>(null);
  const exportJobs = jobs.filter((j) => j.kind === 'export' && j.state === 'completed');
  const finished = exportJobs.length;

  useEffect(() => {
    let live = true;
    call('export:list', undefined).then(
      (list) => live && setFiles(list),
      (err: unknown) => live && setError(toShownError(err)),
    );
    return () => {
      live = false;
    };
  }, [finished]);

  const save = async (reference: string, name: string) => {
    setError(null);
    try {
      await downloadExport(reference, name);
    } catch (err) {
      setError(toShownError(err));
    }
  };

  // The desktop keeps no export folder: this session's exports, with the paths the user chose.
  const saved = isBrowserMode ? [] : exportJobs.map((j) => ({ job: j, result: completedResult(j, 'export')! }));
  const empty = (files?.length ?? 0) === 0 && saved.length === 0;
  return (
    <section className="card" aria-labelledby="exports-heading" id="exports" data-uid="exports">
      <h2 id="exports-heading">Exports</h2>
      <ErrorMessage error={error} />
      {files === null && !error ? (
        <p className="muted">Loading…</p>
      ) : empty ? (
        <EmptyState>No exports yet — export a slice from the Store screen.</EmptyState>
      ) : (
        <ListTable testId="exports-table" columns={[{ label: 'File' }, { label: 'Size', numeric: true }, { label: 'Made' }, ACTIONS_COLUMN]}>
          {(files ?? []).map((f) => (
            <tr key={f.download ?? f.name} data-testid="export-row">
              <td>
                <code>{f.name}</code>
              </td>
              <td className="num">{formatBytes(f.size)}</td>
              <td>{formatDate(f.createdAt)}</td>
              <td className="cell-actions">
                {f.download && (
                  <button type="button" className="button button-small" onClick={() => void save(f.download!, f.name)}>
                    Download
                  </button>
                )}
              </td>
            </tr>
          ))}
          {saved.map(({ job, result }) => (
            <tr key={job.id} data-testid="export-row">
              <td>
                <code>{result.path.split(/[\\/]/).pop()}</code>
                <div className="muted">
                  {formatCount(result.n_obs)} cells{result.n_vars !== undefined && ` × ${formatCount(result.n_vars)} genes`} — saved to <code>{result.path}</code>
                </div>
              </td>
              <td className="num">—</td>
              <td>{formatDate(job.finishedAt)}</td>
              <td />
            </tr>
          ))}
        </ListTable>
      )}
    </section>
  );
}
