// What the renderer shows of the contract's typed results: a run's details, a store diff,
// a job's result by kind, explained variance and durations (rendered to static markup).
import { describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import type { JobSnapshot, RunDetails, RunItem, StoreDiff } from '../../src/shared/contract';
import { RunDetailsView, runItemLabel } from '../../src/renderer/src/features/lineage/RunDetailsView';
import { DiffView } from '../../src/renderer/src/features/versions/DiffView';
import { completedResult } from '../../src/renderer/src/state/job-result';
import { describeExplainedVariance } from '../../src/renderer/src/features/embeddings/pca-summary';
import { formatElapsed } from '../../src/renderer/src/format';

/** The markup's text with tags removed and whitespace collapsed. */
function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&gt;/g, '>')
    .replace(/&lt;/g, '<')
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/\s+/g, ' ')
    .trim();
}

const storeV1: RunItem = { uid: 'S1', kind: 'artifact', key: 'atlas', artifactKind: 'store', version: 1, isLatest: false, deleted: false };
const storeV2: RunItem = { uid: 'S2', kind: 'artifact', key: 'atlas', artifactKind: 'store', version: 2, isLatest: true, deleted: false };
const fileItem: RunItem = { uid: 'F4', kind: 'artifact', key: 'pbmc4.h5ad', artifactKind: 'h5ad', version: 1, isLatest: true, deleted: false };
const goneFile: RunItem = { uid: 'F9', kind: 'artifact', key: 'old.h5ad', artifactKind: 'h5ad', version: 1, isLatest: true, deleted: true };

const appendRun: RunDetails = {
  uid: 'R-append',
  transform: { name: 'append', version: '1' },
  status: 'completed',
  startedAt: '2026-01-05T10:00:00.000Z',
  finishedAt: '2026-01-05T10:00:12.400Z',
  params: { store: 'atlas', files: ['/data/pbmc4.h5ad'], fillMissing: false, pca: { nComponents: 2, layer: null } },
  error: null,
  inputs: [storeV1, fileItem, goneFile],
  outputs: [storeV2],
};

describe('run details', () => {
  it('shows the transform, status, times, inputs, outputs and every parameter', () => {
    const html = renderToStaticMarkup(createElement(RunDetailsView, { run: appendRun, onOpen: () => undefined }));
    const text = textOf(html);
    expect(text).toContain('Run: append completed');
    expect(text).toContain('Run id R-append');
    expect(text).toContain('Transform append version 1');
    expect(text).toContain('Took 12 s');
    expect(text).toMatch(/Inputs atlas v1 pbmc4\.h5ad old\.h5ad \(deleted\) Outputs atlas v2/);
    expect(text).toContain('Parameters store atlas files /data/pbmc4.h5ad fillMissing false pca nComponents: 2');
    expect(text).not.toContain('layer');
    expect(html).toContain('badge badge-completed');
    // A deleted input cannot be opened.
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*title="Deleted"[^>]*>old\.h5ad/);
    expect(html).not.toContain('data-testid="run-error"');
  });

  it('shows how a cancelled run ended and that it never finished writing', () => {
    const cancelled: RunDetails = { ...appendRun, status: 'cancelled', finishedAt: '2026-01-05T10:00:00.900Z', error: 'The embedding was cancelled; the store is unchanged.', outputs: [], params: {} };
    const html = renderToStaticMarkup(createElement(RunDetailsView, { run: cancelled, onOpen: () => undefined }));
    const text = textOf(html);
    // A cancel is the user's choice, not a failure: it is not shown as an error.
    expect(html).toContain('class="message message-warning" data-testid="run-error"');
    expect(renderToStaticMarkup(createElement(RunDetailsView, { run: { ...cancelled, status: 'failed' }, onOpen: () => undefined }))).toContain('class="message message-error" data-testid="run-error"');
    expect(text).toContain('Run: append cancelled');
    expect(text).toContain('Took 900 ms');
    expect(text).toContain('Outputs none');
    expect(text).toContain('The embedding was cancelled; the store is unchanged.');
    expect(text).toContain('Parameters None recorded.');
    const running = textOf(renderToStaticMarkup(createElement(RunDetailsView, { run: { ...appendRun, status: 'running', finishedAt: null }, onOpen: () => undefined })));
    expect(running).toContain('Finished not yet');
  });

  it('labels store versions, files and collections', () => {
    expect(runItemLabel(storeV1)).toBe('atlas v1');
    expect(runItemLabel(fileItem)).toBe('pbmc4.h5ad');
    expect(runItemLabel({ uid: 'C', kind: 'collection', key: 'pbmc', deleted: false })).toBe('pbmc (collection)');
  });
});

describe('store diff', () => {
  it('renders every part of the typed diff', () => {
    const diff: StoreDiff = {
      store: 'atlas',
      a: { version: 1, uid: 'S1', n_obs: 300, n_vars: { RNA: 62 } },
      b: { version: 3, uid: 'S3', n_obs: 360, n_vars: { RNA: 63 } },
      cells: { added: 60, removed: 0 },
      genes: { RNA: { added: ['NEWGENE'], removed: [] } },
      obs_columns: { added: [], removed: [], changed: [], new_categories: [{ name: 'cell_type', values: ['Mono'] }] },
      var_columns: { RNA: { added: [], removed: [], changed: [], new_categories: [] } },
      obsm: { added: ['pca'], removed: [] },
      obsp: { added: ['neighbors'], removed: [], changed: [{ name: 'knn', from: 'k 15, euclidean, on pca', to: 'k 10, cosine, on pca' }] },
      layers: { RNA: { added: [], removed: [] } },
      files: { added: ['a', 'b'], removed: [], shared: 12 },
    };
    const text = textOf(renderToStaticMarkup(createElement(DiffView, { diff })));
    expect(text).toContain('atlas: version 1 → version 3');
    expect(text).toContain('300 → 360 +60 −0');
    expect(text).toContain('Genes (RNA) 62 → 63 Added NEWGENE Removed none');
    expect(text).toContain('New categories in cell_type Mono');
    expect(text).toContain('var columns (RNA) No change.');
    expect(text).toContain('obsm added pca');
    expect(text).toContain('Graphs (obsp) added neighbors Graphs (obsp) removed none Graphs (obsp) changed knn: k 15, euclidean, on pca → k 10, cosine, on pca');
    expect(text).toContain('2 added, 0 removed, 12 shared');
  });
});

describe('job results', () => {
  const base = { id: 'j1', title: 'Export atlas', progress: null, startedAt: '2026-01-05T10:00:00Z', finishedAt: '2026-01-05T10:00:01Z' };
  it('hands back a completed job’s result only for its own kind', () => {
    const exported: JobSnapshot = { ...base, kind: 'export', state: 'completed', result: { path: '/h/exports/x.h5ad', n_obs: 69, n_vars: 62, download: '/download/x' } };
    expect(completedResult(exported, 'export')?.n_obs).toBe(69);
    expect(completedResult(exported, 'embed')).toBeNull();
    expect(completedResult({ ...base, kind: 'export', state: 'cancelled' }, 'export')).toBeNull();
    expect(completedResult(null, 'export')).toBeNull();
  });

  it('describes explained variance and durations', () => {
    expect(describeExplainedVariance([0.1234, 0.08])).toBe('PC1 12.3%, PC2 8.0%');
    expect(describeExplainedVariance([0.3, 0.2, 0.1, 0.05, 0.04, 0.01])).toBe('PC1 30.0%, PC2 20.0%, PC3 10.0%, PC4 5.0%, PC5 4.0%, …');
    expect(describeExplainedVariance(undefined)).toBeNull();
    expect(formatElapsed('2026-01-05T10:00:00Z', '2026-01-05T10:03:05Z')).toBe('3 min 5 s');
    expect(formatElapsed('2026-01-05T10:00:00Z', '2026-01-05T12:04:00Z')).toBe('2 h 4 min');
    expect(formatElapsed('2026-01-05T10:00:05Z', '2026-01-05T10:00:00Z')).toBe('—');
  });
});
