// What to do with selected cells: keep them as A or B for a comparison, save them as an obs
// column (a new version), look at them in the Store screen, or export them.
import { useId, useState } from 'react';
import type { StoreSummary } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import { call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { ErrorMessage } from '../../components/ErrorMessage';
import { JobStatus } from '../../components/JobStatus';
import { completedResult } from '../../state/job-result';
import { navigate } from '../../state/route';
import { formatCount } from '../../format';
import { ExportPanel } from '../store/ExportPanel';
import { joinidFilter, MAX_LISTED_CELLS, selectionJoinids, type Selection } from './explorer-selection';

export interface KeptSelections {
  a: Selection | null;
  b: Selection | null;
}

interface Props {
  summary: StoreSummary;
  embedding: string;
  selection: Selection | null;
  kept: KeptSelections;
  onKeep(which: 'a' | 'b', selection: Selection | null): void;
}

export function SelectionPanel({ summary, embedding, selection, kept, onKeep }: Props) {
  const { trackJob, jobById, cancelJob } = useApp();
  const [what, setWhat] = useState<'current' | 'ab'>('current');
  const [column, setColumn] = useState('selection');
  const [label, setLabel] = useState('selected');
  const [restLabel, setRestLabel] = useState('other');
  const [labelA, setLabelA] = useState('A');
  const [labelB, setLabelB] = useState('B');
  const [showExport, setShowExport] = useState(false);
  const [error, setError] = useState<ErrorValue | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = jobById(jobId);
  const saved = completedResult(job, 'annotate');
  const ids = { what: useId(), column: useId(), label: useId(), rest: useId(), a: useId(), b: useId() };
  const bothKept = kept.a !== null && kept.b !== null;
  const saving = what === 'ab' && bothKept ? 'ab' : 'current';
  const canSave = column.trim() !== '' && (saving === 'ab' || (selection !== null && label.trim() !== ''));

  const save = async () => {
    setError(null);
    try {
      const groups =
        saving === 'ab'
          ? [
              { label: labelA.trim(), joinids: selectionJoinids(kept.a!) },
              { label: labelB.trim(), joinids: selectionJoinids(kept.b!) },
            ]
          : [{ label: label.trim(), joinids: selectionJoinids(selection!) }];
      const polygons = saving === 'ab' ? [...kept.a!.polygons, ...kept.b!.polygons] : selection!.polygons;
      const snapshot = await call('selection:save', {
        storeKey: summary.key,
        column: column.trim(),
        groups,
        ...(saving === 'current' && restLabel.trim() ? { restLabel: restLabel.trim() } : {}),
        embedding,
        version: summary.version,
        polygons,
      });
      trackJob(snapshot);
      setJobId(snapshot.id);
    } catch (err) {
      setError(toShownError(err));
    }
  };

  const tooManyToList = selection !== null && selection.count > MAX_LISTED_CELLS;
  return (
    <section className="card" aria-labelledby="selection-heading" data-testid="selection-panel">
      <h2 id="selection-heading">Selection</h2>
      <p data-testid="selection-summary">
        {selection ? (
          <>
            <strong>{formatCount(selection.count)}</strong> of {formatCount(summary.nObs)} cells selected.
          </>
        ) : (
          'Choose Lasso or Box above the plot and drag around cells to select them.'
        )}
      </p>
      <div className="toolbar">
        <button type="button" className="button" disabled={!selection} onClick={() => onKeep('a', selection)}>
          Keep as A
        </button>
        <button type="button" className="button" disabled={!selection} onClick={() => onKeep('b', selection)}>
          Keep as B
        </button>
        <span className="muted" data-testid="kept-selections">
          A: {kept.a ? `${formatCount(kept.a.count)} cells` : 'none'} · B: {kept.b ? `${formatCount(kept.b.count)} cells` : 'none'}
        </span>
        {(kept.a || kept.b) && (
          <button
            type="button"
            className="button button-quiet"
            onClick={() => {
              onKeep('a', null);
              onKeep('b', null);
            }}
          >
            Forget A and B
          </button>
        )}
      </div>

      <form
        className="form-row"
        aria-label="Save as annotation"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {bothKept && (
          <div className="field">
            <label htmlFor={ids.what}>Save</label>
            <select id={ids.what} value={what} onChange={(e) => setWhat(e.target.value as 'current' | 'ab')}>
              <option value="current">the current selection</option>
              <option value="ab">A and B</option>
            </select>
          </div>
        )}
        <div className="field">
          <label htmlFor={ids.column}>Column name</label>
          <input id={ids.column} value={column} onChange={(e) => setColumn(e.target.value)} />
        </div>
        {saving === 'current' ? (
          <>
            <div className="field field-narrow">
              <label htmlFor={ids.label}>Selected cells</label>
              <input id={ids.label} value={label} onChange={(e) => setLabel(e.target.value)} />
            </div>
            <div className="field field-narrow">
              <label htmlFor={ids.rest}>Other cells</label>
              <input id={ids.rest} value={restLabel} placeholder="NA" onChange={(e) => setRestLabel(e.target.value)} />
            </div>
          </>
        ) : (
          <>
            <div className="field field-narrow">
              <label htmlFor={ids.a}>Cells of A</label>
              <input id={ids.a} value={labelA} onChange={(e) => setLabelA(e.target.value)} />
            </div>
            <div className="field field-narrow">
              <label htmlFor={ids.b}>Cells of B</label>
              <input id={ids.b} value={labelB} onChange={(e) => setLabelB(e.target.value)} />
            </div>
          </>
        )}
        <button type="submit" className="button button-primary field-action" disabled={!canSave || job?.state === 'running'}>
          Save as annotation
        </button>
      </form>
      {summary.obs.some((c) => c.name === column.trim()) && job?.state !== 'completed' && (
        <p className="message message-warning">The store already has a column {column.trim()}; saving replaces it in the new version.</p>
      )}
      <ErrorMessage error={error} />
      {job && (
        <div className="inline-job">
          <JobStatus job={job} onCancel={(id) => void cancelJob(id)} />
          {saved && (
            <p data-testid="selection-saved">
              Saved as the obs column <code>{saved.columns[0]?.name}</code> in version {saved.store.version} ({formatCount(saved.n_matched)} cells labelled).{' '}
              <a href="#" onClick={(e) => {
                e.preventDefault();
                navigate('store', { store: summary.key, obs: saving === 'ab' ? `${saved.columns[0]!.name} in ["${labelA.trim()}", "${labelB.trim()}"]` : `${saved.columns[0]!.name} == "${label.trim()}"` });
              }}>
                Open these cells in the Store screen
              </a>
            </p>
          )}
        </div>
      )}

      <div className="toolbar">
        <button
          type="button"
          className="button"
          disabled={!selection || tooManyToList}
          title={tooManyToList ? `Save the selection as a column first: a filter listing ${formatCount(selection!.count)} cells is too long to read.` : undefined}
          onClick={() => selection && navigate('store', { store: summary.key, ...(summary.isLatest ? {} : { version: String(summary.version) }), obs: joinidFilter(selection) })}
        >
          Open in Store screen
        </button>
        <button type="button" className="button" disabled={!selection} aria-expanded={showExport} onClick={() => setShowExport(!showExport)}>
          Export…
        </button>
        {tooManyToList && <span className="muted">Over {formatCount(MAX_LISTED_CELLS)} cells: save the selection as a column to open it in the Store screen.</span>}
      </div>
      {showExport && selection && (
        <ExportPanel summary={summary} storeRef={{ storeKey: summary.key, ...(summary.isLatest ? {} : { version: String(summary.version) }) }} obs={joinidFilter(selection)} var="" nObs={selection.count} nVars={summary.nVars} what="the selected cells, every gene" />
      )}
    </section>
  );
}
