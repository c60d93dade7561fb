// Top eigenpairs of a symmetric positive semi-definite operator known only through block
// products (randomized block Krylov / block Lanczos with full re-orthogonalisation).
//
// Start from a Gaussian block V₀ (n×b); each pass computes Wⱼ = G·Vⱼ, and the next block is Wⱼ
// made orthonormal against every earlier block (Gram–Schmidt twice). Keeping all blocks means
// pass j searches the span of {V₀, GV₀, …, GʲV₀}, which converges far faster per product than
// plain subspace (power) iteration with the same work. Since every G·Vⱼ is kept, the projected
// matrix H = VᵀGV = VᵀW costs no extra product; its eigenpairs (θ, y) give Ritz pairs
// (θ, V·y) whose residual ‖W·y − θ·V·y‖ is exact, so passes stop once every wanted pair's
// residual is below `tolerance`·θ_max.
import { orthonormalizeBlock, symmetricEigen, type DenseBlock } from './dense';
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
  // projected[i][j] = Vᵢᵀ·Wⱼ (widthᵢ × widthⱼ), filled as blocks arrive.
  const projected: Float64Array[][] = [];
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
    for (let i = 0; i <= latest; i++) {
      projected[i][latest] = crossProduct(blocks[i], images[latest], n);
      if (i < latest) projected[latest][i] = crossProduct(blocks[latest], images[i], n);
    }
    basisSize += width;
    options.onPass?.(pass, options.maxPasses);

    const exhausted = basisSize >= n || pass >= options.maxPasses;
    if (basisSize >= options.minBasisSize || exhausted) {
      const ritz = ritzPairs(blocks, images, projected, basisSize, count, n);
      if (ritz.maxResidual <= options.tolerance || exhausted) {
        return { ...ritz, passes: pass, converged: ritz.maxResidual <= options.tolerance || basisSize >= n };
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

/** aᵀ·b for two n-row blocks. */
function crossProduct(a: DenseBlock, b: DenseBlock, n: number): Float64Array {
  const out = new Float64Array(a.width * b.width);
  const av = a.values;
  const bv = b.values;
  for (let r = 0; r < n; r++) {
    const oa = r * a.width;
    const ob = r * b.width;
    for (let i = 0; i < a.width; i++) {
      const x = av[oa + i];
      const o = i * b.width;
      for (let j = 0; j < b.width; j++) out[o + j] += x * bv[ob + j];
    }
  }
  return out;
}

function ritzPairs(
  blocks: DenseBlock[],
  images: DenseBlock[],
  projected: Float64Array[][],
  size: number,
  count: number,
  n: number,
): Omit<BlockKrylovResult, 'passes' | 'converged'> {
  const h = new Float64Array(size * size);
  let rowOffset = 0;
  for (let i = 0; i < blocks.length; i++) {
    let colOffset = 0;
    for (let j = 0; j < blocks.length; j++) {
      const block = projected[i][j];
      const wj = blocks[j].width;
      for (let a = 0; a < blocks[i].width; a++) for (let b = 0; b < wj; b++) h[(rowOffset + a) * size + colOffset + b] = block[a * wj + b];
      colOffset += wj;
    }
    rowOffset += blocks[i].width;
  }
  // VᵀGV is symmetric in exact arithmetic; average away the rounding.
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
  const vectors = combine(blocks, eigen.vectors, size, wanted, n);
  const imagesOfVectors = combine(images, eigen.vectors, size, wanted, n);

  const scale = Math.max(values[0] ?? 0, 0);
  let maxResidual = 0;
  if (scale > 0) {
    for (let c = 0; c < wanted; c++) {
      let sum = 0;
      for (let r = 0; r < n; r++) sum += (imagesOfVectors[r * wanted + c] - values[c] * vectors[r * wanted + c]) ** 2;
      maxResidual = Math.max(maxResidual, Math.sqrt(sum) / scale);
    }
  }
  return { values, vectors, maxResidual };
}

/** [B₀ B₁ …]·Y[:, 0..wanted) as an n×wanted block; Y is size×size row-major. */
function combine(blocks: DenseBlock[], y: Float64Array, size: number, wanted: number, n: number): Float64Array {
  const out = new Float64Array(n * wanted);
  let offset = 0;
  for (const block of blocks) {
    const bw = block.width;
    const bv = block.values;
    for (let r = 0; r < n; r++) {
      const o = r * wanted;
      for (let a = 0; a < bw; a++) {
        const x = bv[r * bw + a];
        if (x === 0) continue;
        const yo = (offset + a) * size;
        for (let c = 0; c < wanted; c++) out[o + c] += x * y[yo + c];
      }
    }
    offset += bw;
  }
  return out;
}
