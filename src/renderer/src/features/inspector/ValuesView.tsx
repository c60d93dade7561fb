// What the inspector shows of a file's values: each categorical obs column's categories with
// their counts, and the first cells as a table.
import type { ColumnSummary, ObsPreview } from '../../../../shared/contract';
import { formatCell, formatCount } from '../../format';

/** One small table per categorical obs column; categories arrive counted and naturally sorted. */
export function CategoryCounts({ columns }: { columns: ColumnSummary[] }) {
  const categorical = columns.filter((c) => c.category_counts);
  if (categorical.length === 0) return null;
  return (
    <section className="inspector-values" aria-labelledby="category-counts-heading">
      <h2 id="category-counts-heading">Categories in obs</h2>
      <div className="category-grid">
        {categorical.map((c) => {
          const listed = c.category_counts!;
          const more = (c.n_categories ?? listed.length) - listed.length;
          return (
            <div key={c.name} className="category-card table-scroll" data-testid="category-counts" data-column={c.name}>
              <table className="table table-compact">
                <caption>
                  <code>{c.name}</code> <span className="muted">{c.ordered ? 'ordered, ' : ''}{formatCount(c.n_categories ?? listed.length)} categories</span>
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Category</th>
                    <th scope="col" className="num">
                      Cells
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {listed.map((entry) => (
                    <tr key={entry.value}>
                      <td>{entry.value}</td>
                      <td className="num">{formatCount(entry.count)}</td>
                    </tr>
                  ))}
                  {more > 0 && (
                    <tr>
                      <td colSpan={2} className="muted">
                        and {formatCount(more)} more categories
                      </td>
                    </tr>
                  )}
                  {(c.n_missing ?? 0) > 0 && (
                    <tr className="row-missing">
                      <td>NA</td>
                      <td className="num">{formatCount(c.n_missing)}</td>
                    </tr>
                  )}
                </tbody>
              </table>
            </div>
          );
        })}
      </div>
    </section>
  );
}

/** The first rows of obs: scrolls sideways with the cell id column kept in view. */
export function ObsPreviewTable({ preview, nObs }: { preview: ObsPreview; nObs: number }) {
  if (preview.rows.length === 0) return null;
  // A column of numbers is right-aligned, its header too.
  const numeric = preview.columns.map((_, c) => preview.rows.some((r) => typeof r[c + 1] === 'number') && preview.rows.every((r) => r[c + 1] === null || typeof r[c + 1] === 'number'));
  return (
    <section className="inspector-values" aria-labelledby="obs-preview-heading">
      <h2 id="obs-preview-heading">
        First {formatCount(preview.rows.length)} of {formatCount(nObs)} cells
      </h2>
      <div className="table-scroll" data-testid="obs-preview">
        <table className="table table-compact table-sticky-first table-nowrap">
          <thead>
            <tr>
              <th scope="col">{preview.index_name === '_index' ? 'obs index' : preview.index_name}</th>
              {preview.columns.map((name, c) => (
                <th scope="col" key={name} className={numeric[c] ? 'num' : undefined}>
                  {name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {preview.rows.map((row, r) => (
              <tr key={r}>
                {row.map((value, c) =>
                  c === 0 ? (
                    <th scope="row" key={c}>
                      {formatCell(value)}
                    </th>
                  ) : (
                    <td key={c} className={numeric[c - 1] ? 'num' : value === null ? 'muted' : undefined}>
                      {formatCell(value)}
                    </td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
