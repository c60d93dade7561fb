// The derived computations beside the PCA form: QC metrics, the neighbour graph, UMAP and
// Leiden clusters. Each is a job on the latest version and ends in a new version; the app's
// library refresh on a finished job moves the screen to that version, so its embedding and
// colour pickers list what was made.
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { JobSnapshot, StoreSummary } from '../../../../shared/contract';
import { call } from '../../api/call';
import { ErrorMessage } from '../../components/ErrorMessage';
import { InlineJob } from '../../components/InlineJob';
import { completedResult } from '../../state/job-result';
import { useStartedJob } from '../../state/use-started-job';
import { formatCount } from '../../format';
import { describeCluster, describeNeighbors, describeQc, describeUmap } from './compute-summary';

/** The embedding neighbours are found on by default: the engine's own choice (pca, else X_pca), else the first. */
function defaultEmbedding(summary: StoreSummary): string {
  const names = summary.obsm.map((o) => o.name);
  return ['pca', 'X_pca'].find((n) => names.includes(n)) ?? names[0] ?? '';
}

const running = (job: JobSnapshot | null | undefined) => job?.state === 'running';

interface Props {
  summary: StoreSummary;
  /** Show a new embedding on the plot, once the screen's version has it. */
  onEmbedding(name: string): void;
  /** Colour the plot by a new obs column, once the screen's version has it. */
  onColumn(name: string): void;
}

export function ComputePanel({ summary, onEmbedding, onColumn }: Props) {
  const qc = useStartedJob();
  const neighbors = useStartedJob();
  const umap = useStartedJob();
  const cluster = useStartedJob();
  const [k, setK] = useState('15');
  const [embedding, setEmbedding] = useState(() => defaultEmbedding(summary));
  const [minDist, setMinDist] = useState('0.5');
  const [resolution, setResolution] = useState('1');
  const [clusterName, setClusterName] = useState('leiden');
  const ids = { k: useId(), embedding: useId(), minDist: useId(), resolution: useId(), clusterName: useId() };

  // Each job writes a version on top of the latest: one at a time, so none is written over a version it did not read.
  const busy = [qc, neighbors, umap, cluster].some((s) => running(s.job));
  const storeKey = summary.key;
  const chosenEmbedding = summary.obsm.some((o) => o.name === embedding) ? embedding : defaultEmbedding(summary);
  const kValue = Number(k);
  const kValid = Number.isInteger(kValue) && kValue >= 2 && kValue < summary.nObs;
  const minDistValue = Number(minDist);
  const minDistValid = minDist !== '' && Number.isFinite(minDistValue) && minDistValue >= 0 && minDistValue <= 1;
  const resolutionValue = Number(resolution);
  const resolutionValid = resolution !== '' && Number.isFinite(resolutionValue) && resolutionValue > 0;
  const nameValid = /^[\w.\- ]+$/.test(clusterName.trim());

  const qcDone = completedResult(qc.job ?? null, 'qc');
  const neighborsDone = completedResult(neighbors.job ?? null, 'neighbors');
  const umapDone = completedResult(umap.job ?? null, 'umap');
  const clusterDone = completedResult(cluster.job ?? null, 'cluster');

  // What a job made is shown once, when the version the screen reads is the one that has it.
  const shown = useRef(new Set<string>());
  useEffect(() => {
    if (umapDone && umap.job && !shown.current.has(umap.job.id) && summary.version >= umapDone.store.version && summary.obsm.some((o) => o.name === umapDone.umap.name)) {
      shown.current.add(umap.job.id);
      onEmbedding(umapDone.umap.name);
    }
    if (clusterDone && cluster.job && !shown.current.has(cluster.job.id) && summary.version >= clusterDone.store.version && summary.obs.some((c) => c.name === clusterDone.clusters.name)) {
      shown.current.add(cluster.job.id);
      onColumn(clusterDone.clusters.name);
    }
  }, [summary, umapDone, clusterDone]);

  return (
    <section className="card" aria-labelledby="compute-heading" data-testid="compute-panel">
      <h2 id="compute-heading">Compute</h2>
      <p className="muted">Each runs on the latest version (v{summary.version}) and saves what it makes as a new version.</p>

      <Step title="QC metrics" testId="compute-qc" note="Counts, genes and mitochondrial and ribosomal percentages per cell, as obs columns.">
        <button type="button" className="button" disabled={busy} onClick={() => void qc.start(() => call('qc:start', { storeKey }))}>
          Compute QC metrics
        </button>
        <ErrorMessage error={qc.error} />
        <InlineJob job={qc.job}>{qcDone && <p data-testid="compute-qc-done">{describeQc(qcDone)}</p>}</InlineJob>
      </Step>

      <Step title="Neighbours" testId="compute-neighbors" note="The k-nearest-neighbour graph that UMAP and clusters are computed on (they make it with these defaults when it is missing).">
        <div className="form-row">
          <div className="field field-narrow">
            <label htmlFor={ids.k}>k</label>
            <input id={ids.k} type="number" min={2} value={k} onChange={(e) => setK(e.target.value)} aria-invalid={!kValid} />
          </div>
          <div className="field">
            <label htmlFor={ids.embedding}>Embedding</label>
            <select id={ids.embedding} value={chosenEmbedding} onChange={(e) => setEmbedding(e.target.value)}>
              {summary.obsm.map((o) => (
                <option key={o.name} value={o.name}>
                  {o.name} ({o.width} dims)
                </option>
              ))}
            </select>
          </div>
          <button
            type="button"
            className="button field-action"
            disabled={busy || !kValid || !chosenEmbedding}
            onClick={() => void neighbors.start(() => call('neighbors:start', { storeKey, k: kValue, embedding: chosenEmbedding }))}
          >
            Compute neighbours
          </button>
        </div>
        {summary.obsm.length === 0 && <p className="muted">Compute a PCA first: neighbours are found on an embedding.</p>}
        <ErrorMessage error={neighbors.error} />
        <InlineJob job={neighbors.job}>{neighborsDone && <p data-testid="compute-neighbors-done">{describeNeighbors(neighborsDone)}</p>}</InlineJob>
      </Step>

      <Step title="UMAP" testId="compute-umap" note="Two-dimensional coordinates from the neighbour graph, saved in obsm as X_umap.">
        <div className="form-row">
          <div className="field field-narrow">
            <label htmlFor={ids.minDist}>Min dist</label>
            <input id={ids.minDist} type="number" min={0} max={1} step={0.05} value={minDist} onChange={(e) => setMinDist(e.target.value)} aria-invalid={!minDistValid} />
          </div>
          <button type="button" className="button field-action" disabled={busy || !minDistValid} onClick={() => void umap.start(() => call('umap:start', { storeKey, minDist: minDistValue }))}>
            Compute UMAP
          </button>
        </div>
        <ErrorMessage error={umap.error} />
        <InlineJob job={umap.job}>{umapDone && <p data-testid="compute-umap-done">{describeUmap(umapDone)}</p>}</InlineJob>
      </Step>

      <Step title="Clusters" testId="compute-clusters" note="Leiden communities of the neighbour graph, saved as a categorical obs column (0 the largest).">
        <div className="form-row">
          <div className="field field-narrow">
            <label htmlFor={ids.resolution}>Resolution</label>
            <input id={ids.resolution} type="number" min={0} step={0.1} value={resolution} onChange={(e) => setResolution(e.target.value)} aria-invalid={!resolutionValid} />
          </div>
          <div className="field">
            <label htmlFor={ids.clusterName}>Save as (obs column)</label>
            <input id={ids.clusterName} value={clusterName} onChange={(e) => setClusterName(e.target.value)} aria-invalid={!nameValid} />
          </div>
          <button
            type="button"
            className="button field-action"
            disabled={busy || !resolutionValid || !nameValid}
            onClick={() => void cluster.start(() => call('cluster:start', { storeKey, resolution: resolutionValue, name: clusterName.trim() }))}
          >
            Compute clusters
          </button>
        </div>
        {summary.obs.some((c) => c.name === clusterName.trim()) && !clusterDone && <p className="message message-warning">obs already has {clusterName.trim()}; clustering again replaces it in the new version.</p>}
        <ErrorMessage error={cluster.error} />
        <InlineJob job={cluster.job}>
          {clusterDone && (
            <p data-testid="compute-clusters-done">
              {describeCluster(clusterDone)} <span className="muted">Sizes: {clusterDone.clusters.sizes.map((s) => formatCount(s)).join(', ')}.</span>
            </p>
          )}
        </InlineJob>
      </Step>
    </section>
  );
}

function Step({ title, note, testId, children }: { title: string; note: string; testId: string; children: ReactNode }) {
  const headingId = useId();
  return (
    <section aria-labelledby={headingId} data-testid={testId} className="compute-step">
      <h3 id={headingId}>{title}</h3>
      <p className="muted">{note}</p>
      {children}
    </section>
  );
}
