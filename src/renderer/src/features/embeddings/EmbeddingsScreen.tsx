// Embeddings: compute PCA, then plot any obsm entry colored by an obs column or a gene.
import { useEffect, useId, useMemo, useState } from 'react';
import type { DatasetExpression } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import { asFloat32, asInt32, call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { navigate } from '../../state/route';
import { EmptyState, ErrorMessage } from '../../components/ErrorMessage';
import { ScatterPlot } from '../../components/ScatterPlot';
import type { ScatterColors } from '../../components/scatter-colors';
import { interleaveColumns } from '../../components/scatter-view';
import { StoreGate, StoreSelect, useChosenStore } from '../../components/StoreSelect';
import { formatCell, formatCount } from '../../format';
import { useStoreSummary } from '../store/StoreScreen';
import { PcaForm } from './PcaForm';

type ColorChoice = { by: 'none' } | { by: 'obs'; column: string } | { by: 'gene'; gene: string };

export function EmbeddingsScreen({ store }: { store?: string }) {
  const { library } = useApp();
  const storeKey = useChosenStore(store);
  const latestUid = library?.stores.find((s) => s.key === storeKey)?.uid;
  const { summary, error: summaryError } = useStoreSummary(storeKey, undefined, latestUid);
  const [embedding, setEmbedding] = useState('');
  const [axes, setAxes] = useState<[number, number]>([0, 1]);
  const [matrix, setMatrix] = useState<{ values: Float32Array; k: number } | null>(null);
  const [colorChoice, setColorChoice] = useState<ColorChoice>({ by: 'none' });
  const [colors, setColors] = useState<ScatterColors>(null);
  const [byDataset, setByDataset] = useState<DatasetExpression[] | null>(null);
  const [geneText, setGeneText] = useState('');
  const [error, setError] = useState<ErrorValue | null>(null);
  const [colorError, setColorError] = useState<ErrorValue | null>(null);
  const ids = { embedding: useId(), x: useId(), y: useId(), color: useId(), gene: useId() };

  // Another store has other columns, genes and embeddings.
  useEffect(() => {
    setColorChoice({ by: 'none' });
    setEmbedding('');
  }, [storeKey]);

  const obsm = summary?.obsm ?? [];
  const chosen = obsm.find((o) => o.name === embedding) ?? obsm[0] ?? null;

  useEffect(() => {
    setMatrix(null);
    setError(null);
    if (!storeKey || !chosen) return;
    let live = true;
    call('embedding:points', { storeKey, name: chosen.name }).then(
      (r) => {
        if (!live) return;
        setMatrix({ values: asFloat32(r.values), k: r.k });
        setAxes([0, Math.min(1, r.k - 1)]);
      },
      (err: unknown) => live && setError(toShownError(err)),
    );
    return () => {
      live = false;
    };
  }, [storeKey, chosen?.name, latestUid]);

  useEffect(() => {
    setColors(null);
    setByDataset(null);
    setColorError(null);
    if (!storeKey || colorChoice.by === 'none') return;
    let live = true;
    const request = colorChoice.by === 'obs' ? { storeKey, obsColumn: colorChoice.column } : { storeKey, gene: colorChoice.gene };
    call('embedding:colors', request).then(
      (r) => {
        if (!live) return;
        setColors(r.kind === 'category' ? { kind: 'category', codes: asInt32(r.codes), categories: r.categories } : { kind: 'numeric', values: asFloat32(r.values), min: r.min, max: r.max });
        setByDataset(r.kind === 'numeric' ? (r.byDataset ?? null) : null);
      },
      (err: unknown) => live && setColorError(toShownError(err)),
    );
    return () => {
      live = false;
    };
  }, [storeKey, colorChoice, latestUid]);

  const points = useMemo(() => (matrix && matrix.k > 0 ? interleaveColumns(matrix.values, matrix.k, axes[0], matrix.k > 1 ? axes[1] : 0) : null), [matrix, axes]);
  const colorColumns = (summary?.obs ?? []).filter((c) => c.name !== 'obs_id' && c.name !== 'cellar_run_uid');
  const axisOptions = Array.from({ length: matrix?.k ?? 0 }, (_, i) => i);

  return (
    <>
      <header className="screen-header">
        <h1>Embeddings</h1>
        <p className="screen-lede">Compute a PCA of a store and look at any embedding, colored by metadata or a gene.</p>
      </header>
      <StoreGate storeKey={storeKey}>
        {(storeKey) => (
          <>
            <section className="card" aria-label="Store">
              <div className="form-row">
                <StoreSelect value={storeKey} onChange={(key) => navigate('embeddings', { store: key })} />
                {summary && (
                  <p className="field-action muted">
                    Latest version v{summary.version}: {formatCount(summary.nObs)} cells × {formatCount(summary.nVars)} genes
                  </p>
                )}
              </div>
              <ErrorMessage error={summaryError} />
            </section>
            {summary && <PcaForm key={summary.key} summary={summary} />}
            {summary && (
              <section className="card" aria-labelledby="plot-heading">
                <h2 id="plot-heading">Plot</h2>
                {obsm.length === 0 ? (
                  <EmptyState>No embeddings in this store yet — compute a PCA above.</EmptyState>
                ) : (
                  <>
                    <div className="form-row">
                      <div className="field">
                        <label htmlFor={ids.embedding}>Embedding</label>
                        <select id={ids.embedding} value={chosen?.name ?? ''} onChange={(e) => setEmbedding(e.target.value)}>
                          {obsm.map((o) => (
                            <option key={o.name} value={o.name}>
                              {o.name} ({o.width} dims)
                            </option>
                          ))}
                        </select>
                      </div>
                      {axisOptions.length > 2 && (
                        <>
                          <div className="field field-narrow">
                            <label htmlFor={ids.x}>x axis</label>
                            <select id={ids.x} value={axes[0]} onChange={(e) => setAxes([Number(e.target.value), axes[1]])}>
                              {axisOptions.map((i) => (
                                <option key={i} value={i}>
                                  {i + 1}
                                </option>
                              ))}
                            </select>
                          </div>
                          <div className="field field-narrow">
                            <label htmlFor={ids.y}>y axis</label>
                            <select id={ids.y} value={axes[1]} onChange={(e) => setAxes([axes[0], Number(e.target.value)])}>
                              {axisOptions.map((i) => (
                                <option key={i} value={i}>
                                  {i + 1}
                                </option>
                              ))}
                            </select>
                          </div>
                        </>
                      )}
                      <div className="field">
                        <label htmlFor={ids.color}>Color by</label>
                        <select
                          id={ids.color}
                          value={colorChoice.by === 'obs' ? `obs:${colorChoice.column}` : colorChoice.by}
                          onChange={(e) => {
                            const v = e.target.value;
                            if (v === 'none') setColorChoice({ by: 'none' });
                            else if (v === 'gene') setColorChoice(geneText.trim() ? { by: 'gene', gene: geneText.trim() } : { by: 'none' });
                            else setColorChoice({ by: 'obs', column: v.slice(4) });
                          }}
                        >
                          <option value="none">Nothing</option>
                          <optgroup label="obs columns">
                            {colorColumns.map((c) => (
                              <option key={c.name} value={`obs:${c.name}`}>
                                {c.name}
                              </option>
                            ))}
                          </optgroup>
                          {colorChoice.by === 'gene' && <option value="gene">gene {colorChoice.gene}</option>}
                        </select>
                      </div>
                      <form
                        className="field gene-field"
                        onSubmit={(e) => {
                          e.preventDefault();
                          if (geneText.trim()) setColorChoice({ by: 'gene', gene: geneText.trim() });
                        }}
                      >
                        <label htmlFor={ids.gene}>…or a gene</label>
                        <div className="filter-row">
                          <input id={ids.gene} value={geneText} placeholder="gene id" onChange={(e) => setGeneText(e.target.value)} autoComplete="off" spellCheck={false} />
                          <button type="submit" className="button" disabled={!geneText.trim()}>
                            Color
                          </button>
                        </div>
                      </form>
                    </div>
                    <ErrorMessage error={error} />
                    <ErrorMessage error={colorError} />
                    {points ? (
                      <div data-testid="scatter">
                        <ScatterPlot points={points} colors={colors} height={460} />
                      </div>
                    ) : (
                      !error && <p className="muted">Loading points…</p>
                    )}
                    {colorChoice.by === 'gene' && byDataset && <GeneByDataset gene={colorChoice.gene} rows={byDataset} />}
                  </>
                )}
              </section>
            )}
          </>
        )}
      </StoreGate>
    </>
  );
}

/** Where a gene is expressed: a gene new in an appended file reads 0 in every earlier dataset. */
function GeneByDataset({ gene, rows }: { gene: string; rows: DatasetExpression[] }) {
  return (
    <table className="table table-compact gene-by-dataset" data-testid="gene-by-dataset">
      <caption>{gene} by dataset</caption>
      <thead>
        <tr>
          <th scope="col">Dataset</th>
          <th scope="col">Cells</th>
          <th scope="col">Expressing (&gt; 0)</th>
          <th scope="col">Highest value</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.position} data-testid="gene-dataset-row">
            <td>{r.key ?? `dataset ${r.position}`}</td>
            <td>{formatCount(r.nCells)}</td>
            <td>{formatCount(r.nExpressing)}</td>
            <td>{formatCell(r.max)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
