// Top eigenpairs of a symmetric positive semi-definite operator known only through block
// products (randomized block Krylov / block Lanczos with full re-orthogonalisation).
//
// Start from a Gaussian block V₀ (n×b); each pass computes Wⱼ = G·Vⱼ, and the next block is Wⱼ
// made orthonormal against every earlier block (Gram–Schmidt twice). Keeping all blocks means
// pass j searches the span of {V₀, GV₀, …, GʲV₀}, which converges far faster per product than
// plain subspace (power) iteration with the same work. Since every G·Vⱼ is kept, the projected
// matrix H = VᵀGV = VᵀW costs no extra product; its eigenpairs (θ, y) give Ritz pairs
// (θ, V·y) with residual ‖W·y − θ·V·y‖² = yᵀ(WᵀW)y − θ² (cheap, from small matrices; checked
// directly near convergence), so passes stop once every wanted pair's residual is below
// `tolerance`·θ_max.
import { crossProduct, orthonormalizeBlock, symmetricEigen, type DenseBlock } from './dense';
import type { Random } from './random';

export interface BlockKrylovOptions {
  /** Size n of the vectors G acts on. */
  dimension: number;
  /** How many of the largest eigenpairs are wanted. */
  count: number;
  blockSize: number;
  /** Convergence is first checked once the basis has at least this many columns. */
  minBasisSize: number;
  maxPasses: number;
  /** Stop when every wanted Ritz pair has ‖G·u − θ·u‖ ≤ tolerance·θ_max. */
  tolerance: number;
  random: Random;
  /** Called after each pass (the product has been applied `pass` times). */
  onPass?: (pass: number, maxPasses: number) => void;
}

export interface BlockKrylovResult {
  /** The `count` largest Ritz values, largest first. */
  values: Float64Array;
  /** dimension×count row-major; column i is the unit Ritz vector of values[i]. */
  vectors: Float64Array;
  passes: number;
  converged: boolean;
  /** Largest residual of a wanted pair, relative to the largest Ritz value. */
  maxResidual: number;
}

/** `applyBlock(v, width)` must return G·v for a dimension×width row-major block v (a new array). */
export async function blockKrylovEigen(
  applyBlock: (v: Float64Array, width: number) => Promise<Float64Array>,
  options: BlockKrylovOptions,
): Promise<BlockKrylovResult> {
  const { dimension: n, count, random } = options;
  const blocks: DenseBlock[] = [];
  const images: DenseBlock[] = [];
  // projected[i][j] = Vᵢᵀ·Wⱼ and imageGram[i][j] = Wᵢᵀ·Wⱼ (widthᵢ × widthⱼ), filled as blocks arrive.
  const projected: Float64Array[][] = [];
  const imageGram: Float64Array[][] = [];
  let basisSize = 0;

  let width = Math.min(options.blockSize, n);
  let v = new Float64Array(n * width);
  random.fillGaussian(v);
  orthonormalizeBlock(v, n, width, blocks, random);

  for (let pass = 1; ; pass++) {
    const w = await applyBlock(v, width);
    const latest = blocks.length;
    blocks.push({ values: v, width });
    images.push({ values: w, width });
    projected.push([]);
    imageGram.push([]);
    for (let i = 0; i <= latest; i++) {
      // Both are symmetric (G is): Vⱼᵀ·Wᵢ = (Vᵢᵀ·Wⱼ)ᵀ, so only one triangle of blocks is computed.
      projected[i][latest] = crossProduct(blocks[i], images[latest], n);
      imageGram[i][latest] = crossProduct(images[i], images[latest], n);
      if (i < latest) {
        projected[latest][i] = transpose(projected[i][latest], blocks[i].width, width);
        imageGram[latest][i] = transpose(imageGram[i][latest], images[i].width, width);
      }
    }
    basisSize += width;
    options.onPass?.(pass, options.maxPasses);

    const exhausted = basisSize >= n || pass >= options.maxPasses;
    if (basisSize >= options.minBasisSize || exhausted) {
      const ritz = ritzValues(blocks, projected, imageGram, basisSize, count);
      // The cheap residual loses accuracy below ~1e-7 (it subtracts two numbers near θ²):
      // when it says "maybe converged", measure ‖W·y − θ·V·y‖ directly. Above that it agrees
      // with the direct one to about three digits (PCA of 50,000 cells: both 1.54e-3 … 6.0e-5,
      // pass after pass), so a pass whose cheap residual is twice the tolerance is not measured
      // (each measurement is two n × basis × wanted products).
      const maybeConverged = ritz.maxResidual <= Math.max(2 * options.tolerance, 1e-6);
      if (maybeConverged || exhausted) {
        const wanted = ritz.values.length;
        const vectors = combine(blocks, ritz.coefficients, basisSize, wanted, n);
        const maxResidual = directResidual(vectors, combine(images, ritz.coefficients, basisSize, wanted, n), ritz.values, n);
        const converged = maxResidual <= options.tolerance || basisSize >= n;
        if (converged || exhausted) return { values: ritz.values, vectors, passes: pass, converged, maxResidual };
      }
    }

    const nextWidth = Math.min(options.blockSize, n - basisSize);
    const next = new Float64Array(n * nextWidth);
    for (let r = 0; r < n; r++) for (let c = 0; c < nextWidth; c++) next[r * nextWidth + c] = w[r * width + c];
    orthonormalizeBlock(next, n, nextWidth, blocks, random);
    v = next;
    width = nextWidth;
  }
}

function transpose(m: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

/** Assembles the size×size matrix whose (i, j) block is blockMatrix[i][j]. */
function assemble(blocks: DenseBlock[], blockMatrix: Float64Array[][], size: number): Float64Array {
  const out = new Float64Array(size * size);
  let rowOffset = 0;
  for (let i = 0; i < blocks.length; i++) {
    let colOffset = 0;
    for (let j = 0; j < blocks.length; j++) {
      const block = blockMatrix[i][j];
      const wj = blocks[j].width;
      for (let a = 0; a < blocks[i].width; a++) for (let b = 0; b < wj; b++) out[(rowOffset + a) * size + colOffset + b] = block[a * wj + b];
      colOffset += wj;
    }
    rowOffset += blocks[i].width;
  }
  return out;
}

/** The wanted Ritz values, their coefficient vectors (size×size, column i), and the largest relative residual. */
function ritzValues(
  blocks: DenseBlock[],
  projected: Float64Array[][],
  imageGram: Float64Array[][],
  size: number,
  count: number,
): { values: Float64Array; coefficients: Float64Array; maxResidual: number } {
  const h = assemble(blocks, projected, size);
  // Diagonal blocks Vⱼᵀ·Wⱼ are symmetric only up to rounding: average them.
  for (let a = 0; a < size; a++) {
    for (let b = a + 1; b < size; b++) {
      const mean = (h[a * size + b] + h[b * size + a]) / 2;
      h[a * size + b] = mean;
      h[b * size + a] = mean;
    }
  }
  const eigen = symmetricEigen(h, size);
  const wanted = Math.min(count, size);
  const values = eigen.values.slice(0, wanted);
  const m = assemble(blocks, imageGram, size);
  const y = eigen.vectors;
  const scale = Math.max(values[0] ?? 0, 0);
  let maxResidual = 0;
  if (scale > 0) {
    const my = new Float64Array(size);
    for (let c = 0; c < wanted; c++) {
      my.fill(0);
      for (let a = 0; a < size; a++) {
        const ya = y[a * size + c];
        for (let b = 0; b < size; b++) my[b] += m[a * size + b] * ya;
      }
      let quadratic = 0;
      for (let b = 0; b < size; b++) quadratic += y[b * size + c] * my[b];
      const residual2 = Math.max(0, quadratic - values[c] * values[c]);
      maxResidual = Math.max(maxResidual, Math.sqrt(residual2) / scale);
    }
  }
  return { values, coefficients: y, maxResidual };
}

/** max over columns c of ‖images[:, c] − values[c]·vectors[:, c]‖ / max(values[0], 0), both n×wanted. */
function directResidual(vectors: Float64Array, images: Float64Array, values: Float64Array, n: number): number {
  const wanted = values.length;
  const scale = Math.max(values[0] ?? 0, 0);
  if (scale === 0) return 0;
  const sums = new Float64Array(wanted);
  for (let r = 0; r < n; r++) {
    const o = r * wanted;
    for (let c = 0; c < wanted; c++) sums[c] += (images[o + c] - values[c] * vectors[o + c]) ** 2;
  }
  let worst = 0;
  for (let c = 0; c < wanted; c++) worst = Math.max(worst, Math.sqrt(sums[c]) / scale);
  return worst;
}

/**
 * [B₀ B₁ …]·Y[:, 0..wanted) as an n×wanted block; Y is size×size row-major. Four output columns
 * at a time are summed in registers from Y's transpose (both operands read contiguously); each
 * sum adds the basis columns in order, as a plain triple loop would.
 */
function combine(blocks: DenseBlock[], y: Float64Array, size: number, wanted: number, n: number): Float64Array {
  const yt = new Float64Array(wanted * size);
  for (let a = 0; a < size; a++) for (let c = 0; c < wanted; c++) yt[c * size + a] = y[a * size + c];
  const out = new Float64Array(n * wanted);
  for (let r = 0; r < n; r++) {
    const o = r * wanted;
    let c = 0;
    for (; c + 4 <= wanted; c += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = c * size;
      for (const block of blocks) {
        const bw = block.width;
        const bv = block.values;
        const base = r * bw;
        for (let a = 0; a < bw; a++, k++) {
          const x = bv[base + a];
          s0 += x * yt[k];
          s1 += x * yt[k + size];
          s2 += x * yt[k + 2 * size];
          s3 += x * yt[k + 3 * size];
        }
      }
      out[o + c] = s0;
      out[o + c + 1] = s1;
      out[o + c + 2] = s2;
      out[o + c + 3] = s3;
    }
    for (; c < wanted; c++) {
      let sum = 0;
      let k = c * size;
      for (const block of blocks) {
        const bw = block.width;
        const bv = block.values;
        const base = r * bw;
        for (let a = 0; a < bw; a++, k++) sum += bv[base + a] * yt[k];
      }
      out[o + c] = sum;
    }
  }
  return out;
}
