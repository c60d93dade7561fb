import { useId, useState } from 'react';
import type { StoreRef, StoreSummary } from '../../../../shared/contract';

import { call, toShownError } from '../../api/call';
import { downloadExport } from '../../api/client';

import { ErrorMessage } from '../../components/ErrorMessage';

import { formatCount } from '../../format';
import { completedResult } from '../../state/job-result';
import { routeHref } from '../../state/route';
import { InlineJob } from '../../components/InlineJob';
import { useStartedJob } from '../../state/use-started-job';

/** `what` says where the slice comes from when it is not the filters of the Store screen (e.g. "the selected cells"). */
export function ExportPanel({ summary, storeRef, obs, var: varFilter, nObs, nVars, filterFailed = false, what }: { summary: StoreSummary; storeRef: StoreRef; obs: string; var: string; nObs: number; nVars: number; filterFailed?: boolean; what?: string }) {
  const [layer, setLayer] = useState(summary.layers.includes('data') ? 'data' : (summary.layers[0] ?? ''));
  const { job, start: startJob, error, setError } = useStartedJob();
  const layerId = useId();
  const result = completedResult(job, 'export');

  const start = (format: 'h5ad' | 'csv') =>
    startJob(() => call('export:start', { ...storeRef, ...(obs ? { obs } : {}), ...(varFilter ? { var: varFilter } : {}), ...(format === 'h5ad' && layer ? { layer } : {}), format }));

  const fileName = result?.path.split(/[\\/]/).pop();
  const save = async (reference: string, name: string) => {
    setError(null);
    try {
      await downloadExport(reference, name);
    } catch (err) {
      setError(toShownError(err));
    }
  };
  return (
    <section className="card" aria-labelledby="export-heading">
      <h2 id="export-heading">Export</h2>
      {filterFailed ? (
        <p data-testid="export-blocked">A filter above has an error: fix it or clear it to export.</p>
      ) : (
        <p>
          The slice: <strong>{formatCount(nObs)} cells</strong> × <strong>{formatCount(nVars)} genes</strong>
          {what ? ` (${what})` : obs || varFilter ? ' (the filters above)' : ' (everything)'} from version {summary.version}.
        </p>
      )}
      <div className="form-row">
        {summary.layers.length > 1 && (
          <div className="field">
            <label htmlFor={layerId}>Layer for X</label>
            <select id={layerId} value={layer} onChange={(e) => setLayer(e.target.value)}>
              {summary.layers.map((l) => (
                <option key={l}>{l}</option>
              ))}
            </select>
          </div>
        )}
        <div className="field-action toolbar">
          <button type="button" className="button button-primary" disabled={filterFailed || job?.state === 'running'} onClick={() => void start('h5ad')}>
            Export .h5ad
          </button>
          <button type="button" className="button" disabled={filterFailed || job?.state === 'running'} onClick={() => void start('csv')}>
            Export CSV (cells)
          </button>
        </div>
      </div>
      <ErrorMessage error={error} />
      <InlineJob job={job}>
        {result && (
          <p data-testid="export-done">
            Exported {formatCount(result.n_obs)} {result.n_obs === 1 ? 'cell' : 'cells'}
            {result.n_vars !== undefined && ` × ${formatCount(result.n_vars)} ${result.n_vars === 1 ? 'gene' : 'genes'}`}.{' '}
            {result.download ? (
              <button type="button" className="button button-small" data-testid="download-link" onClick={() => void save(result.download!, fileName ?? 'export')}>
                Download {fileName}
              </button>
            ) : (
              <>
                Saved to <code>{result.path}</code>
              </>
            )}
          </p>
        )}
        {result && (
          <p className="muted">
            <a href={routeHref('library', { highlight: 'exports' })}>Every export stays in the Library’s list of exports.</a>
          </p>
        )}
      </InlineJob>
    </section>
  );
}
