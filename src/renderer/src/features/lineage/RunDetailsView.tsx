// One run, as the registry recorded it: what it did (transform and parameters), how it
// ended (status, times, error) and what it read and wrote.
import type { JsonValue, RunDetails, RunItem } from '../../../../shared/contract';
import { formatDate, formatElapsed } from '../../format';

export function runItemLabel(item: RunItem): string {
  if (item.kind === 'collection') return `${item.key} (collection)`;
  return item.artifactKind === 'store' && item.version !== undefined ? `${item.key} v${item.version}` : item.key;
}

function formatParam(value: JsonValue): string {
  if (value === null) return '—';
  if (typeof value === 'object') {
    if (Array.isArray(value)) return value.map(formatParam).join(', ');
    const entries = Object.entries(value).filter(([, v]) => v !== null);
    return entries.length ? entries.map(([k, v]) => `${k}: ${formatParam(v)}`).join(', ') : '—';
  }
  return String(value);
}

function ItemList({ items, onOpen }: { items: RunItem[]; onOpen(item: RunItem): void }) {
  if (items.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="inline-list">
      {items.map((item) => (
        <li key={item.uid}>
          <button type="button" className="button button-small button-quiet" disabled={item.deleted} title={item.deleted ? 'Deleted' : undefined} onClick={() => onOpen(item)}>
            {runItemLabel(item)}
            {item.deleted && ' (deleted)'}
          </button>
        </li>
      ))}
    </ul>
  );
}

export function RunDetailsView({ run, onOpen }: { run: RunDetails; onOpen(item: RunItem): void }) {
  const params = Object.entries(run.params);
  return (
    <section className="run-details" aria-label="Run details" data-testid="run-details">
      <h3>
        Run: {run.transform.name}{' '}
        <span className={`badge badge-${run.status}`} data-testid="run-status">
          {run.status}
        </span>
      </h3>
      <dl className="facts">
        <div>
          <dt>Run id</dt>
          <dd>
            <code>{run.uid}</code>
          </dd>
        </div>
        <div>
          <dt>Transform</dt>
          <dd>
            {run.transform.name} <span className="muted">version {run.transform.version}</span>
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatDate(run.startedAt)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{run.finishedAt ? formatDate(run.finishedAt) : 'not yet'}</dd>
        </div>
        {run.finishedAt && (
          <div>
            <dt>Took</dt>
            <dd data-testid="run-duration">{formatElapsed(run.startedAt, run.finishedAt)}</dd>
          </div>
        )}
        <div>
          <dt>Inputs</dt>
          <dd data-testid="run-inputs">
            <ItemList items={run.inputs} onOpen={onOpen} />
          </dd>
        </div>
        <div>
          <dt>Outputs</dt>
          <dd data-testid="run-outputs">
            <ItemList items={run.outputs} onOpen={onOpen} />
          </dd>
        </div>
      </dl>
      {run.error && (
        <p className={run.status === 'cancelled' ? 'message message-warning' : 'message message-error'} data-testid="run-error">
          {run.error}
        </p>
      )}
      <h4 className="run-params-heading">Parameters</h4>
      {params.length === 0 ? (
        <p className="muted">None recorded.</p>
      ) : (
        <dl className="run-params" data-testid="run-params">
          {params.map(([name, value]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>{formatParam(value)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}
