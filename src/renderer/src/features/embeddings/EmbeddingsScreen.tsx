// Embeddings: compute PCA, then explore any version's embeddings: colour by an obs column or
// a gene, hover a cell for its values, select cells (lasso, box), save or export them, and
// compare them by differential expression.
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import type { DatasetExpression, GeneColorScale } from '../../../../shared/contract';
import type { GeneHit } from '../../../../shared/result-types';
import type { ErrorValue } from '../../../../shared/errors';
import { asFloat32, asInt32, call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { navigate } from '../../state/route';
import { EmptyState, ErrorMessage } from '../../components/ErrorMessage';
import { ScatterPlot, type DrawnShape } from '../../components/ScatterPlot';
import type { ScatterColors } from '../../components/scatter-colors';
import { interleaveColumns } from '../../components/scatter-view';
import { StoreGate, StoreSelect, useChosenStore } from '../../components/StoreSelect';
import { formatCell, formatCount } from '../../format';
import { useStoreSummary, useVersions } from '../store/StoreScreen';
import { PcaForm } from './PcaForm';
import { ComputePanel } from './ComputePanel';
import { QcHistograms } from './QcHistograms';
import { axisLabel } from './pca-summary';
import { PointTooltip, type RowCache } from './PointTooltip';
import { SelectionPanel, type KeptSelections } from './SelectionPanel';
import { DePanel } from './DePanel';
import { makeSelection, type Selection } from './explorer-selection';
import { VersionSelect } from '../../components/VersionSelect';

type ColorChoice = { by: 'none' } | { by: 'obs'; column: string } | { by: 'gene'; gene: string };

export function EmbeddingsScreen({ store }: { store?: string }) {
  const { library } = useApp();
  const storeKey = useChosenStore(store);
  const latestUid = library?.stores.find((s) => s.key === storeKey)?.uid;
  const [version, setVersion] = useState<string | undefined>(undefined);
  const { versions } = useVersions(storeKey, latestUid);
  const { summary, error: summaryError } = useStoreSummary(storeKey, version, latestUid);
  const [embedding, setEmbedding] = useState('');
  const [axes, setAxes] = useState<[number, number]>([0, 1]);
  const [matrix, setMatrix] = useState<{ values: Float32Array; k: number } | null>(null);
  const [colorChoice, setColorChoice] = useState<ColorChoice>({ by: 'none' });
  const [colors, setColors] = useState<ScatterColors>(null);
  const [colorScale, setColorScale] = useState<GeneColorScale | null>(null);
  const [byDataset, setByDataset] = useState<DatasetExpression[] | null>(null);
  const [geneText, setGeneText] = useState('');
  const [geneHits, setGeneHits] = useState<GeneHit[]>([]);
  const [notMeasuredNote, setNotMeasuredNote] = useState<string | null>(null);
  const [error, setError] = useState<ErrorValue | null>(null);
  const [colorError, setColorError] = useState<ErrorValue | null>(null);
  const [selection, setSelection] = useState<Selection | null>(null);
  const [kept, setKept] = useState<KeptSelections>({ a: null, b: null });
  const rowCache = useRef<RowCache>(new Map());
  const ids = { embedding: useId(), x: useId(), y: useId(), color: useId(), gene: useId(), geneList: useId() };

  // Another store has other columns, genes, embeddings and cells.
  useEffect(() => {
    setColorChoice({ by: 'none' });
    setEmbedding('');
    setVersion(undefined);
  }, [storeKey]);

  const obsm = summary?.obsm ?? [];
  const chosen = obsm.find((o) => o.name === embedding) ?? obsm[0] ?? null;
  const versionRef = version ? { version } : {};
  const pointsKey = `${storeKey}@${summary?.uid ?? ''}:${chosen?.name ?? ''}`;

  // A selection is of cells, so it carries over to another embedding of them; other cells start over.
  useEffect(() => {
    setSelection(null);
    setKept({ a: null, b: null });
    rowCache.current = new Map();
  }, [storeKey, summary?.nObs]);
  useEffect(() => {
    rowCache.current = new Map();
  }, [summary?.uid]);

  // A new version keeps showing the old points until its own arrive (saving a selection makes one).
  useEffect(() => {
    setError(null);
    if (!storeKey || !chosen) return setMatrix(null);
    let live = true;
    call('embedding:points', { storeKey, ...versionRef, name: chosen.name }).then(
      (r) => {
        if (!live) return;
        const values = asFloat32(r.values);
        setMatrix((old) => (old && sameValues(old.values, values) ? old : { values, k: r.k }));
        setAxes((old) => (old[0] < r.k && old[1] < r.k ? old : [0, Math.min(1, r.k - 1)]));
      },
      (err: unknown) => live && setError(toShownError(err)),
    );
    return () => {
      live = false;
    };
  }, [pointsKey]);

  useEffect(() => {
    setColors(null);
    setByDataset(null);
    setColorScale(null);
    setColorError(null);
    if (!storeKey || colorChoice.by === 'none') return;
    let live = true;
    const request = colorChoice.by === 'obs' ? { storeKey, ...versionRef, obsColumn: colorChoice.column } : { storeKey, ...versionRef, gene: colorChoice.gene };
    call('embedding:colors', request).then(
      (r) => {
        if (!live) return;
        setColors(r.kind === 'category' ? { kind: 'category', codes: asInt32(r.codes), categories: r.categories } : { kind: 'numeric', values: asFloat32(r.values), min: r.min, max: r.max });
        setByDataset(r.kind === 'numeric' ? (r.byDataset ?? null) : null);
        setColorScale(r.kind === 'numeric' ? (r.scale ?? null) : null);
        setNotMeasuredNote(r.kind === 'numeric' ? (r.notMeasured?.note ?? null) : null);
      },
      (err: unknown) => live && setColorError(toShownError(err)),
    );
    return () => {
      live = false;
    };
  }, [storeKey, colorChoice, summary?.uid]);

  // Genes by id or symbol as the name is typed (ids and symbols of this version).
  useEffect(() => {
    const prefix = geneText.trim();
    if (!storeKey || !prefix) return setGeneHits([]);
    let live = true;
    const timer = setTimeout(() => {
      call('genes:search', { storeKey, ...versionRef, prefix, limit: 20 }).then(
        (hits) => live && setGeneHits(hits),
        () => live && setGeneHits([]),
      );
    }, 150);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // versionRef is rebuilt on every render: the version it holds is the dependency.
  }, [storeKey, geneText, version]);

  const points = useMemo(() => (matrix && matrix.k > 0 ? interleaveColumns(matrix.values, matrix.k, axes[0], matrix.k > 1 ? axes[1] : 0) : null), [matrix, axes]);
  const colorColumns = (summary?.obs ?? []).filter((c) => c.name !== 'obs_id' && c.name !== 'cellar_run_uid' && c.name !== 'soma_joinid');
  const axisOptions = Array.from({ length: matrix?.k ?? 0 }, (_, i) => i);
  const ratios = chosen?.explainedVarianceRatio;
  const datasetNames = useMemo(() => new Map((summary?.datasets ?? []).map((d) => [String(d.position), d.key])), [summary]);
  const storeRef = useMemo(() => ({ storeKey: storeKey ?? '', ...(version ? { version } : {}) }), [storeKey, version]);
  const colorNote =
    colorChoice.by === 'gene' && colorScale
      ? (colorScale === 'log-normalized'
        ? `${colorChoice.gene}: log1p of counts per 10,000`
        : `${colorChoice.gene}: values as stored (X is not counts, so not normalised)`) + (notMeasuredNote ? `. ${notMeasuredNote}` : '')
      : undefined;
  const onSelectionChange = (mask: Uint8Array | null, drawn: DrawnShape | null) => {
    // Shapes drawn with shift or alt belong to the selection they changed; a new one starts over.
    const polygons = drawn === null ? [] : drawn.mode === 'replace' ? [drawn.polygon] : [...(selection?.polygons ?? []), drawn.polygon];
    setSelection(makeSelection(mask, polygons));
  };
  const colorByGene = (gene: string) => {
    setGeneText(gene);
    setColorChoice({ by: 'gene', gene });
  };

  return (
    <>
      <header className="screen-header">
        <h1>Embeddings</h1>
        <p className="screen-lede">Compute a PCA, QC metrics, neighbours, UMAP and clusters of a store, and explore any embedding: colour it, select cells, save them, compare them.</p>
      </header>
      <StoreGate storeKey={storeKey}>
        {(storeKey) => (
          <>
            <section className="card" aria-label="Store">
              <div className="form-row">
                <StoreSelect value={storeKey} onChange={(key) => navigate('embeddings', { store: key })} />
                <VersionSelect versions={versions} value={version} onChange={setVersion} />
                {summary && (
                  <p className="field-action muted" data-testid="explorer-version">
                    Version v{summary.version}
                    {summary.isLatest ? ' (latest)' : ' (read-only)'}: {formatCount(summary.nObs)} cells × {formatCount(summary.nVars)} genes
                  </p>
                )}
              </div>
              <ErrorMessage error={summaryError} />
            </section>
            {summary && summary.isLatest && (
              <div className="two-columns">
                <PcaForm key={summary.key} summary={summary} />
                <ComputePanel key={summary.key} summary={summary} onEmbedding={setEmbedding} onColumn={(column) => setColorChoice({ by: 'obs', column })} />
              </div>
            )}
            {summary && (
              <section className="card" aria-labelledby="plot-heading">
                <h2 id="plot-heading">Plot</h2>
                {obsm.length === 0 ? (
                  <EmptyState>{summary.isLatest ? 'No embeddings in this store yet — compute a PCA above.' : 'No embeddings in this version.'}</EmptyState>
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
                          <input id={ids.gene} list={ids.geneList} value={geneText} placeholder="gene id or symbol" onChange={(e) => setGeneText(e.target.value)} autoComplete="off" spellCheck={false} />
                          <datalist id={ids.geneList} data-testid="gene-suggestions">
                            {geneHits.map((h) => (
                              <option key={h.joinid} value={h.symbol ?? h.id}>
                                {h.symbol && h.symbol !== h.id ? `${h.symbol} (${h.id})` : h.id}
                              </option>
                            ))}
                          </datalist>
                          <button type="submit" className="button" disabled={!geneText.trim()}>
                            Color
                          </button>
                        </div>
                      </form>
                    </div>
                    <ErrorMessage error={error} />
                    <ErrorMessage error={colorError} />
                    {points && chosen ? (
                      <div data-testid="scatter">
                        <ScatterPlot
                          points={points}
                          colors={colors}
                          height={460}
                          selection={selection?.mask ?? null}
                          onSelectionChange={onSelectionChange}
                          renderTooltip={(index) => <PointTooltip storeRef={storeRef} index={index} cache={rowCache.current} datasetNames={datasetNames} />}
                          xLabel={axisLabel(chosen.name, axes[0], ratios)}
                          yLabel={axisLabel(chosen.name, matrix!.k > 1 ? axes[1] : 0, ratios)}
                          colorNote={colorNote}
                        />
                      </div>
                    ) : (
                      !error && <p className="muted">Loading points…</p>
                    )}
                    {colorChoice.by === 'gene' && byDataset && <GeneByDataset gene={colorChoice.gene} rows={byDataset} />}
                  </>
                )}
              </section>
            )}
            {summary && <QcHistograms key={summary.key} summary={summary} />}
            {summary && chosen && points && (
              <SelectionPanel
                summary={summary}
                embedding={chosen.name}
                selection={selection}
                kept={kept}
                onKeep={(which, s) => setKept((k) => ({ ...k, [which]: s }))}
              />
            )}
            {summary && chosen && points && <DePanel key={summary.key} summary={summary} selection={selection} kept={kept} onGene={colorByGene} />}
          </>
        )}
      </StoreGate>
    </>
  );
}

/** The same embedding read again from a newer version: keep the arrays the plot already holds. */
function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) return false;
  return true;
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
