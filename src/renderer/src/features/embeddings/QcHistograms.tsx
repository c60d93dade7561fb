// QC at a glance: a numeric obs column (total_counts after QC metrics, say) as one small
// histogram per dataset, on shared bins, so a dataset with shallower sequencing or more dying
// cells stands out beside the others.
import { useEffect, useId, useMemo, useState } from 'react';
import type { StoreSummary } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import { formatDecimal } from '../../../../shared/format-number';
import { asFloat32, asInt32, call, toShownError } from '../../api/call';
import { ErrorMessage } from '../../components/ErrorMessage';
import { formatCount } from '../../format';
import { datasetHistograms, type DatasetHistogram } from './qc-histogram';

const BINS = 30;
const WIDTH = 240;
const HEIGHT = 72;
/** Columns that are numbers but not measurements of a cell. */
const NOT_MEASURES = new Set(['soma_joinid', 'dataset', 'cellar_run_uid']);
const PREFERRED = ['total_counts', 'n_genes_by_counts', 'pct_counts_mt', 'n_counts'];

export function QcHistograms({ summary }: { summary: StoreSummary }) {
  const numeric = summary.obs.filter((c) => !c.categories && !NOT_MEASURES.has(c.name) && /^(float|int|uint)/.test(c.dtype)).map((c) => c.name);
  const [wanted, setWanted] = useState('');
  const column = numeric.includes(wanted) ? wanted : (PREFERRED.find((n) => numeric.includes(n)) ?? numeric[0] ?? '');
  const [data, setData] = useState<{ key: string; values: Float32Array; datasets: Int32Array; names: string[] } | null>(null);
  const [error, setError] = useState<ErrorValue | null>(null);
  const selectId = useId();
  const ref = { storeKey: summary.key, version: String(summary.version) };
  const requestKey = `${summary.uid}:${column}`;

  useEffect(() => {
    setError(null);
    if (!column) return;
    let live = true;
    Promise.all([call('embedding:colors', { ...ref, obsColumn: column }), call('embedding:colors', { ...ref, obsColumn: 'dataset' })]).then(
      ([v, d]) => {
        if (!live) return;
        // The service names the datasets: "dataset" comes as codes into their file names.
        if (v.kind !== 'numeric' || d.kind !== 'category') return setData(null);
        setData({ key: requestKey, values: asFloat32(v.values), datasets: asInt32(d.codes), names: d.categories });
      },
      (err: unknown) => live && setError(toShownError(err)),
    );
    return () => {
      live = false;
    };
  }, [requestKey]);

  const histograms = useMemo(() => (data && data.key === requestKey ? datasetHistograms(data.values, data.datasets, BINS) : null), [data, requestKey]);
  const tallest = histograms ? Math.max(1, ...histograms.datasets.flatMap((h) => h.counts)) : 1;

  if (numeric.length === 0) return null;
  return (
    <section className="card" aria-labelledby="qc-histograms-heading" data-testid="qc-histograms">
      <h2 id="qc-histograms-heading">Distributions by dataset</h2>
      <div className="form-row">
        <div className="field">
          <label htmlFor={selectId}>obs column</label>
          <select id={selectId} value={column} onChange={(e) => setWanted(e.target.value)}>
            {numeric.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </div>
        {histograms && histograms.edges.length > 0 && (
          <p className="field-action muted">
            {BINS} bins from {formatDecimal(histograms.edges[0]!)} to {formatDecimal(histograms.edges[BINS]!)}, the same for every dataset; bar heights on one scale.
          </p>
        )}
      </div>
      <ErrorMessage error={error} />
      {histograms ? (
        <div style={{ display: 'grid', gridTemplateColumns: `repeat(auto-fill, minmax(${WIDTH}px, 1fr))`, gap: 'var(--space-4)' }}>
          {histograms.datasets.map((h) => (
            <Histogram key={h.position} histogram={h} name={data!.names[h.position] ?? 'no dataset'} column={column} tallest={tallest} />
          ))}
        </div>
      ) : (
        !error && <p className="muted">Loading values…</p>
      )}
    </section>
  );
}

function Histogram({ histogram, name, column, tallest }: { histogram: DatasetHistogram; name: string; column: string; tallest: number }) {
  const { counts } = histogram;
  const barWidth = WIDTH / Math.max(1, counts.length);
  return (
    <figure style={{ margin: 0 }} data-testid="qc-histogram" data-dataset={name} data-counts={counts.join(',')}>
      <figcaption>
        <strong>{name}</strong>{' '}
        <span className="muted">
          {formatCount(histogram.nCells)} cells{histogram.median !== null && `, median ${formatDecimal(histogram.median)}`}
          {histogram.nMissing > 0 && `, ${formatCount(histogram.nMissing)} missing`}
        </span>
      </figcaption>
      <svg width={WIDTH} height={HEIGHT} role="img" aria-label={`${column} in ${name}: histogram of ${formatCount(histogram.nCells)} cells`} style={{ display: 'block', borderBottom: '1px solid var(--border-strong)' }}>
        {counts.map((c, b) => {
          const h = (c / tallest) * (HEIGHT - 2);
          return c > 0 ? <rect key={b} x={b * barWidth + 0.5} y={HEIGHT - h} width={Math.max(1, barWidth - 1)} height={h} fill="var(--accent)" /> : null;
        })}
      </svg>
    </figure>
  );
}
