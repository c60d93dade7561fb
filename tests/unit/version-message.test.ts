// The words a version carries: each operation's wording, with counts as the app writes them.
import { describe, expect, it } from 'vitest';
import { annotationMessage, appendMessage, compactionMessage, concatenationMessage, embeddingMessage, restoreMessage } from '../../src/shared/version-message';

describe('version messages', () => {
  it('say what each operation did, in words', () => {
    expect(concatenationMessage(4, 200_000, 20_000)).toBe('concatenation of 4 files: 200,000 cells × 20,000 genes');
    expect(concatenationMessage(1, 1, 1)).toBe('concatenation of 1 file: 1 cell × 1 gene');
    expect(appendMessage(['batch4.h5ad'], 1_500, 50)).toBe('append of batch4.h5ad: +1,500 cells, +50 genes');
    expect(appendMessage(['a.h5ad', 'b.h5ad'], 1, 1)).toBe('append of a.h5ad and b.h5ad: +1 cell, +1 gene');
    expect(appendMessage(['a.h5ad', 'b.h5ad', 'c.h5ad', 'd.h5ad'], 10, 0)).toBe('append of 4 files: +10 cells, +0 genes');
    expect(restoreMessage(1)).toBe('restore of v1');
    expect(embeddingMessage('pca', { pca: { nComponents: 50, layer: 'data', normalize: true } })).toBe('PCA (50 components of data, normalised) as obsm pca');
    expect(embeddingMessage('X_pca', { pca: { nComponents: 30, layer: 'counts', genes: 2_000 } })).toBe('PCA (30 components of counts, 2,000 most variable genes) as obsm X_pca');
    expect(embeddingMessage('umap', { fromFile: 'umap.npy' })).toBe('embedding from umap.npy as obsm umap');
    expect(annotationMessage('labels.csv', 2)).toBe('annotation from labels.csv: 2 columns');
    expect(annotationMessage('labels.csv', 1)).toBe('annotation from labels.csv: 1 column');
    expect(compactionMessage(1, 3)).toBe('compaction of v1–v3');
    expect(compactionMessage(4, 4)).toBe('compaction of v4');
  });
});
