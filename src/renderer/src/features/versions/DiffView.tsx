// A readable diff of two store versions (the contract's StoreDiff, as `cellar diff --json` prints it).
import type { FrameDiff, StoreDiff } from '../../../../shared/contract';
import { formatCount } from '../../format';
import { compareNatural } from '../../../../shared/natural-sort';

function NameList({ names, limit = 12 }: { names: string[]; limit?: number }) {
  if (!names.length) return <span className="muted">none</span>;
  const shown = names.slice(0, limit);
  return (
    <span>
      {shown.map((n, i) => (
        <code key={i} className="chip">
          {n}
        </code>
      ))}
      {names.length > limit && <span className="muted"> and {formatCount(names.length - limit)} more</span>}
    </span>
  );
}

function FrameSection({ title, diff }: { title: string; diff: FrameDiff }) {
  const nothing = !diff.added.length && !diff.removed.length && !diff.changed.length && !diff.new_categories.length;
  return (
    <section className="diff-section" aria-label={title}>
      <h3>{title}</h3>
      {nothing ? (
        <p className="muted">No change.</p>
      ) : (
        <dl className="diff-list">
          {diff.added.length > 0 && (
            <>
              <dt>Added</dt>
              <dd>
                <NameList names={diff.added} />
              </dd>
            </>
          )}
          {diff.removed.length > 0 && (
            <>
              <dt>Removed</dt>
              <dd>
                <NameList names={diff.removed} />
              </dd>
            </>
          )}
          {diff.changed.length > 0 && (
            <>
              <dt>Changed</dt>
              <dd>
                <NameList names={diff.changed.map((c) => `${c.name}: ${c.from} → ${c.to}`)} />
              </dd>
            </>
          )}
          {diff.new_categories.map((c) => (
            <div key={c.name} className="diff-pair">
              <dt>New categories in {c.name}</dt>
              <dd>
                <NameList names={c.values.map(String).sort(compareNatural)} />
              </dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

export function DiffView({ diff }: { diff: StoreDiff }) {
  return (
    <div className="diff" data-testid="diff">
      <h3 className="diff-title">
        {diff.store}: version {diff.a.version} → version {diff.b.version}
      </h3>
      <div className="diff-grid">
        <section className="diff-section" aria-label="Cells">
          <h3>Cells</h3>
          <p>
            {formatCount(diff.a.n_obs)} → <strong>{formatCount(diff.b.n_obs)}</strong> <span className="added">+{formatCount(diff.cells.added)}</span>{' '}
            <span className="removed">−{formatCount(diff.cells.removed)}</span>
          </p>
        </section>
        {Object.entries(diff.genes).map(([ms, g]) => (
          <section className="diff-section" key={ms} aria-label={`Genes (${ms})`}>
            <h3>Genes ({ms})</h3>
            <p>
              {formatCount(diff.a.n_vars[ms] ?? 0)} → <strong>{formatCount(diff.b.n_vars[ms] ?? 0)}</strong>
            </p>
            <dl className="diff-list">
              <dt>Added</dt>
              <dd>
                <NameList names={g.added} />
              </dd>
              <dt>Removed</dt>
              <dd>
                <NameList names={g.removed} />
              </dd>
            </dl>
          </section>
        ))}
        <FrameSection title="obs columns" diff={diff.obs_columns} />
        {Object.entries(diff.var_columns).map(([ms, d]) => (
          <FrameSection key={ms} title={`var columns (${ms})`} diff={d} />
        ))}
        <section className="diff-section" aria-label="Embeddings and layers">
          <h3>Embeddings and layers</h3>
          <dl className="diff-list">
            <dt>obsm added</dt>
            <dd>
              <NameList names={diff.obsm.added} />
            </dd>
            <dt>obsm removed</dt>
            <dd>
              <NameList names={diff.obsm.removed} />
            </dd>
            <dt>Graphs (obsp) added</dt>
            <dd>
              <NameList names={diff.obsp.added} />
            </dd>
            <dt>Graphs (obsp) removed</dt>
            <dd>
              <NameList names={diff.obsp.removed} />
            </dd>
            {diff.obsp.changed.length > 0 && (
              <>
                <dt>Graphs (obsp) changed</dt>
                <dd>
                  <NameList names={diff.obsp.changed.map((c) => `${c.name}: ${c.from} → ${c.to}`)} />
                </dd>
              </>
            )}
            {Object.entries(diff.layers).map(([ms, l]) => (
              <div key={ms} className="diff-pair">
                <dt>Layers ({ms})</dt>
                <dd>
                  {l.added.length || l.removed.length ? (
                    <>
                      added <NameList names={l.added} />; removed <NameList names={l.removed} />
                    </>
                  ) : (
                    <span className="muted">no change</span>
                  )}
                </dd>
              </div>
            ))}
          </dl>
        </section>
        <section className="diff-section" aria-label="Files">
          <h3>Files</h3>
          <p>
            {formatCount(diff.files.added.length)} added, {formatCount(diff.files.removed.length)} removed, {formatCount(diff.files.shared)} shared
          </p>
        </section>
      </div>
    </div>
  );
}
