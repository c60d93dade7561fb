import type { PlanEntry, PlanReport } from '../../../shared/contract';
import { formatCount } from '../format';

const SECTIONS: { key: 'kept' | 'dropped' | 'converted' | 'added'; title: string; empty: string }[] = [
  { key: 'kept', title: 'Kept', empty: 'Nothing is kept.' },
  { key: 'dropped', title: 'Dropped', empty: 'Nothing is dropped.' },
  { key: 'converted', title: 'Converted', empty: 'Nothing is converted.' },
  { key: 'added', title: 'Added', empty: 'Nothing is added.' },
];

function EntryList({ entries }: { entries: PlanEntry[] }) {
  return (
    <ul className="plan-list">
      {entries.map((e, i) => (
        <li key={`${e.element}/${e.name}/${i}`}>
          <code>
            {e.element}/{e.name}
          </code>
          {e.detail && <span className="plan-detail"> — {e.detail}</span>}
        </li>
      ))}
    </ul>
  );
}

/** A concatenation plan or an append preflight: what happens to each element, and every problem. */
export function PlanReportView({ report, label }: { report: PlanReport; label: string }) {
  const totals = [
    report.n_obs !== undefined ? `${formatCount(report.n_obs)} cells` : null,
    report.n_vars !== undefined ? `${formatCount(report.n_vars)} genes` : null,
    report.n_new_obs !== undefined ? `${formatCount(report.n_new_obs)} new cells` : null,
    report.n_new_vars !== undefined ? `${formatCount(report.n_new_vars)} new genes` : null,
  ].filter(Boolean);
  return (
    <section className="plan" aria-label={label} data-testid="plan">
      {totals.length > 0 && <p className="plan-totals">{totals.join(' · ')}</p>}
      <section className={`plan-problems${report.problems.length ? ' has-problems' : ''}`} aria-label="Problems" data-testid="plan-problems">
        <h3>Problems {report.problems.length > 0 && <span className="badge badge-failed">{report.problems.length}</span>}</h3>
        {report.problems.length === 0 ? (
          <p className="ok-text">No problems found.</p>
        ) : (
          <ul className="problem-list">
            {report.problems.map((p, i) => (
              <li key={i} data-testid="plan-problem">
                {p}
              </li>
            ))}
          </ul>
        )}
      </section>
      <div className="plan-grid">
        {SECTIONS.map((s) => (
          <section key={s.key} className="plan-section" aria-label={s.title} data-testid={`plan-${s.key}`}>
            <h3>
              {s.title} <span className="count">{report[s.key].length}</span>
            </h3>
            {report[s.key].length === 0 ? <p className="muted">{s.empty}</p> : <EntryList entries={report[s.key]} />}
          </section>
        ))}
      </div>
    </section>
  );
}
