// Compute a PCA embedding of the store's latest version (a job; a new version when done).
import { useId, useState } from 'react';
import type { StoreSummary } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import { call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { ErrorMessage } from '../../components/ErrorMessage';
import { JobStatus } from '../../components/JobStatus';
import { completedResult } from '../../state/job-result';
import { formatCount } from '../../format';
import { describeExplainedVariance } from './pca-summary';

export function PcaForm({ summary }: { summary: StoreSummary }) {
  const { trackJob, jobById, cancelJob } = useApp();
  const [components, setComponents] = useState('50');
  const [layer, setLayer] = useState(summary.layers.includes('data') ? 'data' : (summary.layers[0] ?? ''));
  const [normalize, setNormalize] = useState(true);
  const [genes, setGenes] = useState('');
  const [seed, setSeed] = useState('0');
  const [name, setName] = useState('pca');
  const [error, setError] = useState<ErrorValue | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = jobById(jobId);
  const done = completedResult(job, 'embed');
  const explained = describeExplainedVariance(done?.embedding.explained_variance_ratio);
  const ids = { components: useId(), layer: useId(), genes: useId(), seed: useId(), name: useId() };

  const nComponents = Number(components);
  const maxComponents = Math.max(1, Math.min(summary.nObs, summary.nVars) - 1);
  const componentsValid = Number.isInteger(nComponents) && nComponents >= 1 && nComponents <= maxComponents;
  const genesValid = genes === '' || (Number.isInteger(Number(genes)) && Number(genes) >= 2);
  const nameTaken = summary.obsm.some((o) => o.name === name.trim());

  const start = async () => {
    setError(null);
    try {
      const snapshot = await call('embed:start', {
        storeKey: summary.key,
        nComponents,
        ...(layer ? { layer } : {}),
        normalize,
        ...(genes ? { genes: Number(genes) } : {}),
        ...(seed !== '' ? { seed: Number(seed) } : {}),
        name: name.trim() || 'pca',
      });
      trackJob(snapshot);
      setJobId(snapshot.id);
    } catch (err) {
      setError(toShownError(err));
    }
  };

  return (
    <form
      className="card"
      aria-labelledby="pca-heading"
      onSubmit={(e) => {
        e.preventDefault();
        void start();
      }}
    >
      <h2 id="pca-heading">Compute PCA</h2>
      <p className="muted">Runs on the latest version (v{summary.version}) and saves the result in obsm under the name below, as a new version.</p>
      <div className="form-row">
        <div className="field field-narrow">
          <label htmlFor={ids.components}>Components</label>
          <input id={ids.components} type="number" min={1} max={maxComponents} value={components} onChange={(e) => setComponents(e.target.value)} aria-invalid={!componentsValid} />
        </div>
        <div className="field">
          <label htmlFor={ids.layer}>Layer</label>
          <select id={ids.layer} value={layer} onChange={(e) => setLayer(e.target.value)}>
            {summary.layers.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </div>
        <div className="field field-narrow">
          <label htmlFor={ids.genes}>Top variable genes</label>
          <input id={ids.genes} type="number" min={2} placeholder="all" value={genes} onChange={(e) => setGenes(e.target.value)} aria-invalid={!genesValid} />
        </div>
        <div className="field field-narrow">
          <label htmlFor={ids.seed}>Seed</label>
          <input id={ids.seed} type="number" value={seed} onChange={(e) => setSeed(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.name}>Save as (obsm name)</label>
          <input id={ids.name} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={normalize} onChange={(e) => setNormalize(e.target.checked)} />
          Normalize (counts per 10,000, then log1p)
        </label>
      </div>
      {!componentsValid && <p className="text-error">Components must be a whole number from 1 to {maxComponents}.</p>}
      {nameTaken && job?.state !== 'completed' && <p className="message message-warning">obsm already has {name.trim()}; computing again replaces it in the new version.</p>}
      <div className="toolbar">
        <button type="submit" className="button button-primary" disabled={!componentsValid || !genesValid || job?.state === 'running'}>
          Compute PCA
        </button>
      </div>
      <ErrorMessage error={error} />
      {job && (
        <div className="inline-job">
          <JobStatus job={job} onCancel={(id) => void cancelJob(id)} />
          {done && (
            <p data-testid="pca-done">
              Saved <code>{done.embedding.name}</code> ({formatCount(done.embedding.shape[0])} cells × {done.embedding.shape[1]} components) as version {done.store.version}.
              {explained && ` Variance explained: ${explained}.`}
            </p>
          )}
        </div>
      )}
    </form>
  );
}
