// PCA peer check (SPEC §8 B6 at test size): our randomized PCA against scipy's svds on a
// centering LinearOperator (the way scanpy runs sparse PCA), on the same generated counts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { randomizedPca, type PcaResult } from '../../src/main/engine/linalg/pca';
import { syntheticCounts } from '../../src/main/engine/linalg/synthetic-counts';

const K = 20;

const PEER_SCRIPT = `
import json, sys
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, svds
folder = sys.argv[1]
shape = json.load(open(folder + '/shape.json'))
n, g, k = shape['nRows'], shape['nCols'], shape['k']
indptr = np.fromfile(folder + '/indptr.f64').astype(np.int64)
indices = np.fromfile(folder + '/indices.i32', dtype=np.int32)
data = np.fromfile(folder + '/data.f32', dtype=np.float32).astype(np.float64)
x = sp.csr_matrix((data, indices, indptr), shape=(n, g))
mu = np.asarray(x.mean(axis=0)).ravel()
xt = x.T.tocsr()
centered = LinearOperator((n, g), dtype=np.float64,
    matvec=lambda v: x @ v - mu @ v, matmat=lambda v: x @ v - mu @ v,
    rmatvec=lambda y: xt @ y - mu * y.sum(), rmatmat=lambda y: xt @ y - np.outer(mu, y.sum(axis=0)))
u, s, vt = svds(centered, k=k, v0=np.random.default_rng(0).uniform(-1, 1, size=min(n, g)))
order = np.argsort(-s)
u, s = u[:, order], s[order]
variance = (np.asarray(x.multiply(x).sum(axis=0)).ravel() - n * mu ** 2) / (n - 1)
ev = s ** 2 / (n - 1)
(u * s).astype(np.float64).tofile(folder + '/peer_scores.f64')
ev.tofile(folder + '/peer_ev.f64')
(ev / variance.sum()).tofile(folder + '/peer_ratio.f64')
`;

function pearson(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, column: number): number {
  let ma = 0;
  let mb = 0;
  for (let r = 0; r < n; r++) {
    ma += a[r * k + column];
    mb += b[r * k + column];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let r = 0; r < n; r++) {
    const da = a[r * k + column] - ma;
    const db = b[r * k + column] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

function readF64(path: string): Float64Array {
  const bytes = readFileSync(path);
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describe('PCA peer: scipy svds on a centering LinearOperator', () => {
  const folder = mkdtempSync(join(tmpdir(), 'cellar-pca-peer-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  // 3,000 cells × 500 genes, 8 cell types with their own gene programs, ~60 non-zeros per cell.
  const { matrix } = syntheticCounts({ nCells: 3000, nGenes: 500, nCellTypes: 8, nnzPerCell: 60, seed: 2024 });
  const n = matrix.nRows;
  const write = (name: string, array: ArrayBufferView): void => writeFileSync(join(folder, name), new Uint8Array(array.buffer, array.byteOffset, array.byteLength));

  let ours: PcaResult;
  let peerScores: Float64Array;
  let peerVariance: Float64Array;
  let peerRatio: Float64Array;

  it('both sides run on the same generated counts', async () => {
    expect(matrix.indptr[n]).toBeGreaterThan(150_000);
    write('indptr.f64', matrix.indptr);
    write('indices.i32', matrix.indices);
    write('data.f32', matrix.data);
    writeFileSync(join(folder, 'shape.json'), JSON.stringify({ nRows: n, nCols: matrix.nCols, k: K }));
    execFileSync('/usr/bin/python3', ['-c', PEER_SCRIPT, folder], { stdio: ['ignore', 'pipe', 'pipe'] });
    peerScores = readF64(join(folder, 'peer_scores.f64'));
    peerVariance = readF64(join(folder, 'peer_ev.f64'));
    peerRatio = readF64(join(folder, 'peer_ratio.f64'));
    expect(peerScores.length).toBe(n * K);

    ours = await randomizedPca(matrix, { nComponents: K, seed: 0 });
    expect(ours.converged).toBe(true);
    expect(ours.scores.length).toBe(n * K);
  });

  it('the top 10 components’ scores correlate ≥ 0.99 with the peer’s (sign-insensitive)', () => {
    for (let c = 0; c < 10; c++) expect(Math.abs(pearson(ours.scores, peerScores, n, K, c))).toBeGreaterThanOrEqual(0.99);
  });

  it('the explained variance and its ratio agree within 1% for all 20 components', () => {
    for (let c = 0; c < K; c++) {
      expect(Math.abs(ours.explainedVariance[c] / peerVariance[c] - 1)).toBeLessThan(0.01);
      expect(Math.abs(ours.explainedVarianceRatio[c] / peerRatio[c] - 1)).toBeLessThan(0.01);
    }
  });
});
