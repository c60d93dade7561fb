import type { PendingFiles } from '../state/pending-files';
import { navigate } from '../state/route';
import { formatBytes, formatCount } from '../format';
import { ACTIONS_COLUMN, ListTable } from './ListTable';

/** Files waiting for an import or append; double-click (or Inspect) opens one in the inspector. */
export function PendingFileList({ queue, caption }: { queue: PendingFiles; caption: string }) {
  if (queue.entries.length === 0) return null;
  const inspect = (token: string, name: string) => navigate('inspect', { token, name });
  return (
    <ListTable testId="pending-files" columns={[{ label: 'File' }, { label: 'Size', numeric: true }, { label: 'Contents' }, ACTIONS_COLUMN]} caption={<caption>{caption}</caption>} className="pending-table">
      {queue.entries.map((entry) => (
        <tr
          key={entry.file.fileToken}
          data-testid="pending-file"
          data-status={entry.status}
          className={entry.status === 'error' ? 'row-error' : undefined}
          onDoubleClick={() => inspect(entry.file.fileToken, entry.file.name)}
          title="Double-click to inspect"
        >
          <td className="cell-name">{entry.file.name}</td>
          <td className="num">{formatBytes(entry.file.size)}</td>
          <td>
            {entry.status === 'checking' && <span className="muted">Checking…</span>}
            {entry.status === 'ok' && (
              <span>
                {formatCount(entry.summary.n_obs)} cells × {formatCount(entry.summary.n_vars)} genes
              </span>
            )}
            {entry.status === 'error' && (
              <span className="text-error" role="alert" data-testid="pending-file-error">
                {entry.error.message}
              </span>
            )}
          </td>
          <td className="cell-actions">
            <button type="button" className="button button-small" onClick={() => inspect(entry.file.fileToken, entry.file.name)} disabled={entry.status === 'error'}>
              Inspect
            </button>
            <button type="button" className="button button-small button-quiet" onClick={() => queue.remove(entry.file.fileToken)} aria-label={`Remove ${entry.file.name}`}>
              Remove
            </button>
          </td>
        </tr>
      ))}
    </ListTable>
  );
}
