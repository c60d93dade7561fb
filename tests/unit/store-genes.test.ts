// Gene matching and lookup without files: Ensembl version stripping, the union/intersection
// of var ids with merges and refusals, and names resolved as id, then symbol.
import { describe, expect, it } from 'vitest';
import { matchVarIds } from '../../src/main/engine/ops/plan';
import { GeneIndex, unversionedId } from '../../src/main/engine/store/genes';
import type { Column } from '../../src/main/engine/columns/column-model';
import type { FrameReader } from '../../src/main/engine/store/store-reader';

function frame(ids: string[], symbols: (string | null)[]): FrameReader {
  const columns: Record<string, Column> = { var_id: { kind: 'string', values: ids }, sym: { kind: 'string', values: symbols } };
  return { nRows: ids.length, columnNames: Object.keys(columns), schema: () => undefined, column: (name) => columns[name] };
}

describe('unversionedId', () => {
  it('strips the version of Ensembl gene and transcript ids of any species, and nothing else', () => {
    expect(unversionedId('ENSG00000141510.17')).toBe('ENSG00000141510');
    expect(unversionedId('ENSMUSG00000059552.8')).toBe('ENSMUSG00000059552');
    expect(unversionedId('ENST00000269305.9')).toBe('ENST00000269305');
    for (const id of ['TP53', 'ENSG00000141510', 'ENSG1.2', 'ENSG00000141510.17.1', 'RP11-34P13.3']) expect(unversionedId(id)).toBe(id);
  });
});

describe('matchVarIds', () => {
  const a = ['ENSG00000000001.2', 'ENSG00000000002.2', 'ENSG00000000003.2'];
  const b = ['ENSG00000000003.1', 'ENSG00000000004.1', 'ENSG00000000001.1'];

  it('outer + unversioned: the union in first-seen order, ids as first seen, merges and gaps counted', () => {
    const m = matchVarIds([a, b], ['a', 'b'], { match: 'unversioned', join: 'outer' });
    expect(m.problems).toEqual([]);
    expect(m.ids.ids).toEqual([...a, 'ENSG00000000004.1']);
    expect(Array.from(m.ids.localToGlobal[1]!)).toEqual([2, 3, 0]);
    expect(m.merged).toEqual({ count: 2, examples: [{ id: 'ENSG00000000003.1', kept: 'ENSG00000000003.2', dataset: 'b' }, { id: 'ENSG00000000001.1', kept: 'ENSG00000000001.2', dataset: 'b' }] });
    expect(m.missing).toEqual([{ dataset: 'a', count: 1, examples: ['ENSG00000000004.1'] }, { dataset: 'b', count: 1, examples: ['ENSG00000000002.2'] }]);
  });

  it('inner: only genes every dataset has, in the first dataset\'s order; the rest map to -1', () => {
    const m = matchVarIds([a, b], ['a', 'b'], { match: 'unversioned', join: 'inner' });
    expect(m.ids.ids).toEqual(['ENSG00000000001.2', 'ENSG00000000003.2']);
    expect(Array.from(m.ids.localToGlobal[0]!)).toEqual([0, -1, 1]);
    expect(Array.from(m.ids.localToGlobal[1]!)).toEqual([1, -1, 0]);
    expect(Array.from(m.ids.firstDataset)).toEqual([0, 0]);
    expect(Array.from(m.ids.firstLocal)).toEqual([0, 2]);
  });

  it('exact: different versions stay different genes', () => {
    expect(matchVarIds([a, b], ['a', 'b'], { match: 'exact', join: 'outer' }).ids.ids).toHaveLength(6);
  });

  it('refuses versions that would merge two genes of one dataset', () => {
    const m = matchVarIds([['ENSG00000000001.1', 'ENSG00000000001.2']], ['x.h5ad'], { match: 'unversioned', join: 'outer' });
    expect(m.problems).toEqual(['--match-genes unversioned would merge 1 pair of genes within x.h5ad: ENSG00000000001.1 and ENSG00000000001.2. Those are different genes there; use --match-genes exact.']);
  });

  it('refuses unversioned matching on append when the store itself holds two versions of a gene', () => {
    const m = matchVarIds([['ENSG00000000001']], ['c.h5ad'], { match: 'unversioned', join: 'outer' }, ['ENSG00000000001.1', 'ENSG00000000001.2']);
    expect(m.problems).toEqual(['--match-genes unversioned would merge 1 pair of genes within the store: ENSG00000000001.1 and ENSG00000000001.2. Those are different genes there; use --match-genes exact.']);
  });

  it('append: existing ids keep their joinids, a new versioned id joins its gene', () => {
    const m = matchVarIds([['ENSG00000000009', 'ENSG00000000001']], ['c'], { match: 'unversioned', join: 'outer' }, a);
    expect(m.ids.ids).toEqual([...a, 'ENSG00000000009']);
    expect(Array.from(m.ids.localToGlobal[0]!)).toEqual([3, 0]);
  });
});

describe('GeneIndex', () => {
  const index = new GeneIndex(frame(['ENSG00000000001.3', 'ENSG00000000002.1', 'ENSG00000000003.1', 'TP53'], ['TP53', 'DUP', 'DUP', 'TP53-alias']), 'sym', 'store s');

  it('resolves an id first, then a symbol, then an Ensembl id with another version', () => {
    // "TP53" is the id of gene 3 and the symbol of gene 0: the id wins.
    expect(index.resolve('TP53')).toBe(3);
    expect(index.resolve('TP53-alias')).toBe(3);
    expect(index.resolve('ENSG00000000001.3')).toBe(0);
    expect(index.resolve('ENSG00000000001.9')).toBe(0);
    expect(() => index.resolve('DUP')).toThrow('The gene symbol DUP is ambiguous in store s: it names 2 genes (ENSG00000000002.1, ENSG00000000003.1); ask for one by its id.');
    expect(() => index.resolve('MYC')).toThrow('There is no gene MYC in store s as a var id or a gene symbol (var column sym).');
  });

  it('searches ids and symbols by prefix, exact matches first, at most N', () => {
    expect(index.search('tp53', 10).map((h) => h.joinid)).toEqual([0, 3]);
    expect(index.search('d', 10).map((h) => h.id)).toEqual(['ENSG00000000002.1', 'ENSG00000000003.1']);
    expect(index.search('ensg', 2)).toEqual([
      { joinid: 0, id: 'ENSG00000000001.3', symbol: 'TP53' },
      { joinid: 1, id: 'ENSG00000000002.1', symbol: 'DUP' },
    ]);
  });
});
