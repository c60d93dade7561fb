import type { ReactNode } from 'react';
import type { ErrorValue } from '../../../shared/errors';

/** The engine's message as it wrote it (multi-line messages keep their caret line) and its problems. */
export function ErrorMessage({ error, title }: { error: ErrorValue | null; title?: string }) {
  if (!error) return null;
  const multiline = error.message.includes('\n');
  return (
    <div className="message message-error" role="alert" data-testid="error">
      {title && <strong className="message-title">{title}</strong>}
      {multiline ? <pre className="error-pre">{error.message}</pre> : <p>{error.message}</p>}
      {error.problems && error.problems.length > 0 && (
        <ul className="problem-list">
          {error.problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function EmptyState({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function LoadingCard() {
  return (
    <section className="card">
      <p className="muted">Loading…</p>
    </section>
  );
}
