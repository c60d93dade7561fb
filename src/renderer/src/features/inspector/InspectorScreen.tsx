// File inspector: what an .h5ad holds, read by the engine before anything is imported.
import { useEffect, useState } from 'react';
import type { ColumnSummary, InspectSummary } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import { call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { navigate } from '../../state/route';
import { EmptyState, ErrorMessage } from '../../components/ErrorMessage';
import { AddFilesButton, DropZone } from '../../components/FileAdder';
import type { OpenedFile } from '../../../../shared/contract';
import { formatCount } from '../../format';
import { describeXValues } from '../../../../shared/x-values';
import { CategoryCounts, ObsPreviewTable } from './ValuesView';

function ColumnTable({ columns, caption }: { columns: ColumnSummary[]; caption: string }) {
  if (columns.length === 0) return <EmptyState>No {caption.toLowerCase()}.</EmptyState>;
  return (
    <table className="table table-compact">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Column</th>
          <th scope="col">dtype</th>
          <th scope="col" className="num">
            Categories
          </th>
        </tr>
      </thead>
      <tbody>
        {columns.map((c) => (
          <tr key={c.name}>
            <td>
              <code>{c.name}</code>
            </td>
            <td>{c.dtype}</td>
            <td className="num">{c.n_categories !== undefined ? `${formatCount(c.n_categories)}${c.ordered ? ' (ordered)' : ''}` : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function NameList({ names }: { names: string[] }) {
  return names.length ? <span>{names.join(', ')}</span> : <span className="muted">none</span>;
}

function Shapes({ shapes }: { shapes: Record<string, number[]> }) {
  const entries = Object.entries(shapes);
  if (!entries.length) return <span className="muted">none</span>;
  return <span>{entries.map(([name, shape]) => `${name} (${shape.join(' × ')})`).join(', ')}</span>;
}

function Summary({ summary }: { summary: InspectSummary }) {
  return (
    <>
      <dl className="facts" data-testid="inspect-facts">
        <div>
          <dt>Shape</dt>
          <dd>
            {formatCount(summary.n_obs)} cells × {formatCount(summary.n_vars)} genes
          </dd>
        </div>
        <div>
          <dt>X</dt>
          <dd>{summary.X ? `${summary.X.encoding}, ${summary.X.dtype}, ${summary.X.shape.map(formatCount).join(' × ')}` : 'absent'}</dd>
        </div>
        {summary.X_values && (
          <div>
            <dt>X values</dt>
            <dd data-testid="x-values" data-kind={summary.X_values.kind}>
              {describeXValues(summary.X_values)}
            </dd>
          </div>
        )}
        <div>
          <dt>Layers</dt>
          <dd>
            <NameList names={summary.layers} />
          </dd>
        </div>
        <div>
          <dt>obsm</dt>
          <dd>
            <Shapes shapes={summary.obsm} />
          </dd>
        </div>
        <div>
          <dt>varm</dt>
          <dd>
            <Shapes shapes={summary.varm} />
          </dd>
        </div>
        <div>
          <dt>obsp / varp</dt>
          <dd>
            <NameList names={[...summary.obsp, ...summary.varp]} />
          </dd>
        </div>
        <div>
          <dt>uns</dt>
          <dd>
            <NameList names={summary.uns} />
          </dd>
        </div>
        <div>
          <dt>raw</dt>
          <dd>{summary.raw ? `${formatCount(summary.raw.n_vars)} genes, ${summary.raw.var.length} var columns` : 'absent'}</dd>
        </div>
      </dl>
      {summary.notices && summary.notices.length > 0 && (
        <div className="message message-warning" role="status">
          <ul>
            {summary.notices.map((n, i) => (
              <li key={i}>{n}</li>
            ))}
          </ul>
        </div>
      )}
      <CategoryCounts columns={summary.obs} />
      {summary.obs_preview && <ObsPreviewTable preview={summary.obs_preview} nObs={summary.n_obs} />}
      <div className="two-columns">
        <ColumnTable columns={summary.obs} caption="obs columns" />
        <ColumnTable columns={summary.var} caption="var columns" />
      </div>
      {summary.raw && <ColumnTable columns={summary.raw.var} caption="raw.var columns" />}
    </>
  );
}

export function InspectorScreen({ token, name, imported }: { token?: string; name?: string; imported?: string }) {
  const { importQueue } = useApp();
  const [openErrors, setOpenErrors] = useState<ErrorValue[]>([]);
  const open = (files: OpenedFile[]) => {
    const last = files[files.length - 1];
    if (last) navigate('inspect', { token: last.fileToken, name: last.name });
  };
  const [summary, setSummary] = useState<InspectSummary | null>(null);
  const [error, setError] = useState<ErrorValue | null>(null);
  // A file in the import list was already read when it was added.
  const checked = importQueue.entries.find((e) => e.file.fileToken === token);
  const known = checked?.status === 'ok' ? checked.summary : null;

  useEffect(() => {
    setSummary(known);
    setError(null);
    if (!token || known) return;
    let live = true;
    call('file:inspect', { fileToken: token }).then(
      (s) => live && setSummary(s),
      (err: unknown) => live && setError(toShownError(err)),
    );
    return () => {
      live = false;
    };
  }, [token, known]);

  const queued = importQueue.entries.some((e) => e.file.fileToken === token);
  return (
    <DropZone label="File inspector: drop a dataset file here to open it" onFiles={open} onErrors={setOpenErrors}>
      <header className="screen-header">
        <h1>File inspector</h1>
        <p className="screen-lede">
          {name ? <code>{name}</code> : 'What a dataset file holds, before it is imported.'}
          {imported && <span className="muted"> — imported in the Library as {imported}</span>}
        </p>
        <div className="toolbar">
          <AddFilesButton label={token ? 'Open another file…' : 'Open a file…'} inputLabel="Choose a dataset file to open (.h5ad, .h5, .loom)" testId="inspect-file-input" onFiles={open} onErrors={setOpenErrors} />
          <span className="muted">or drop an .h5ad, .h5 or .loom file here</span>
        </div>
        {openErrors.map((e, i) => (
          <ErrorMessage key={i} error={e} />
        ))}
      </header>
      {!token ? (
        <section className="card">
          <EmptyState>No file open — open or drop a dataset file, or choose Inspect next to a file in the Library.</EmptyState>
        </section>
      ) : (
        <section className="card" aria-label="File contents" data-testid="inspector">
          <ErrorMessage error={error} title="This file cannot be read" />
          {!summary && !error && <p className="muted">Reading…</p>}
          {summary && <Summary summary={summary} />}
          {summary && (
            <div className="toolbar">
              {imported ? (
                <button type="button" className="button" onClick={() => navigate('library')}>
                  Back to the Library
                </button>
              ) : queued ? (
                <button type="button" className="button" onClick={() => navigate('library')}>
                  Back to the import list
                </button>
              ) : (
                <button
                  type="button"
                  className="button button-primary"
                  onClick={() => {
                    importQueue.add([{ fileToken: token, name: name ?? 'file.h5ad' }]);
                    navigate('library');
                  }}
                >
                  Import this file…
                </button>
              )}
            </div>
          )}
        </section>
      )}
    </DropZone>
  );
}
