// The table of a differential expression: CSV with quoting and every digit, results kept in
// the home (the oldest pushed out past KEPT_DE_RESULTS), and ids that cannot become paths.
import { mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deRowsToCsv, KEPT_DE_RESULTS, loadDeResult, saveDeResult } from '../../src/main/engine/ops/de-table';
import type { DeResult, DeRow } from '../../src/shared/de-types';

const row = (gene: string, symbol: string | null, pval: number): DeRow => ({ gene, symbol, logfc: -1.25, pval, padj: Math.min(1, pval * 3), pct_in: 0.5, pct_out: 1 / 3, score: 2.5 });

function result(label: string): DeResult {
  return {
    store: { uid: 'u', key: 'cells', version: 1 },
    method: 'wilcoxon',
    layer: 'data',
    group: { label, n_cells: 3 },
    reference: { label: 'rest', n_cells: 4 },
    values: 'log-normalized',
    n_genes: 1,
    notices: [],
    results: [row('G1', 'S1', 0.01)],
  };
}

let home: string | undefined;
afterEach(() => {
  if (home) rmSync(home, { recursive: true, force: true });
  home = undefined;
});

describe('de table', () => {
  it('writes CSV rows in order, quoting what needs it, an empty cell for no symbol, numbers in full', () => {
    const csv = deRowsToCsv([row('G,1', 'say "hi"', 0.1 + 0.2), row('G2', null, 1)]);
    expect(csv).toBe(['gene,symbol,logfc,pval,padj,pct_in,pct_out,score', '"G,1","say ""hi""",-1.25,0.30000000000000004,0.9000000000000001,0.5,0.3333333333333333,2.5', 'G2,,-1.25,1,1,0.5,0.3333333333333333,2.5', ''].join('\n'));
  });

  it(`keeps the newest ${KEPT_DE_RESULTS} results in the home and reads them back`, () => {
    home = mkdtempSync(join(tmpdir(), 'cellar-de-table-'));
    const ids: string[] = [];
    for (let i = 0; i < KEPT_DE_RESULTS + 2; i++) {
      const id = saveDeResult(home, result(`g${i}`));
      // Distinct times, oldest first, whatever the file system's clock resolution.
      utimesSync(join(home, 'results', 'de', `${id}.json`), 1_000 + i, 1_000 + i);
      ids.push(id);
    }
    // One more (now, the newest): every save prunes by modification time.
    ids.push(saveDeResult(home, result('last')));
    expect(readdirSync(join(home, 'results', 'de'))).toHaveLength(KEPT_DE_RESULTS);
    expect(loadDeResult(home, ids.at(-1)!).group.label).toBe('last');
    expect(loadDeResult(home, ids.at(-2)!).group.label).toBe(`g${KEPT_DE_RESULTS + 1}`);
    expect(() => loadDeResult(home!, ids[0]!)).toThrow('That differential expression result is no longer kept; run it again.');
    expect(() => loadDeResult(home!, ids[2]!)).toThrow('no longer kept');
  });

  it('refuses an id it did not make, before touching the disk', () => {
    home = mkdtempSync(join(tmpdir(), 'cellar-de-table-'));
    for (const bad of ['../registry', 'de-1', 'de-00000000-0000-0000-0000-000000000000/../../x']) {
      expect(() => loadDeResult(home!, bad)).toThrow(`"${bad}" does not name a differential expression result.`);
    }
  });
});
