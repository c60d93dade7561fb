// The app's list tables (files, collections, stores, exports, versions): one header markup —
// numbers right-aligned, an unlabelled actions column — inside a box that scrolls sideways
// with the first column sticky, so every list reads and scrolls the same way at 1024 px.
import type { ReactNode } from 'react';

export interface ListColumn {
  label: string;
  numeric?: boolean;
}

/** The last column of a list whose rows carry buttons; named for screen readers only. */
export const ACTIONS_COLUMN: ListColumn = { label: 'Actions' };

export function ListTable({ testId, columns, caption, className, children }: { testId: string; columns: ListColumn[]; caption?: ReactNode; className?: string; children: ReactNode }) {
  return (
    <div className="table-scroll">
      <table className={`table table-sticky-first${className ? ` ${className}` : ''}`} data-testid={testId}>
        {caption}
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c.label} className={c.numeric ? 'num' : undefined}>
                {c === ACTIONS_COLUMN ? <span className="visually-hidden">{c.label}</span> : c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
