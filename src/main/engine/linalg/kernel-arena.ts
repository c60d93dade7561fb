// One thread's kernel memory: a WebAssembly.Memory holding the retained CSR blocks (bottom,
// kept across passes) and the scratch of the current pass (top, released as a stack).
// Typed-array views are made on demand, because growing the memory detaches earlier views.
import { CellarError } from '../../../shared/errors';
import type { CsrMatrix, CsrRowBlock } from './csr';
import { instantiateKernels, type StoredCsr, type WasmKernels } from './wasm-kernels';

/** A CSR block whose values are any typed array but 64-bit integers. */
export type StorableBlock = Omit<CsrMatrix, 'data'> & { data: Exclude<CsrRowBlock['data'], BigInt64Array | BigUint64Array> };

const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB, the wasm32 limit
const ALIGN = 16;

export class KernelArena {
  readonly memory: WebAssembly.Memory;
  /** The SIMD kernels, or null to use the JavaScript kernels on views of this memory. */
  readonly kernels: WasmKernels | null;
  private persistentTop = 0;
  private transientTop = 0;

  constructor(useWasmKernels: boolean, initialBytes = 1 << 20) {
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(initialBytes / PAGE) });
    this.kernels = useWasmKernels ? instantiateKernels(this.memory) : null;
  }

  /** Space that lives until resetPersistent(); only allowed while no scratch is in use. */
  allocatePersistent(bytes: number): number {
    if (this.transientTop !== this.persistentTop) throw new Error('Persistent allocation while scratch memory is in use.');
    const offset = this.persistentTop;
    this.persistentTop = this.reserve(offset, bytes);
    this.transientTop = this.persistentTop;
    return offset;
  }

  /** Forgets every persistent block from `offset` on (their bytes stay readable until overwritten). */
  resetPersistent(offset = 0): void {
    this.persistentTop = offset;
    this.transientTop = offset;
  }

  get persistentBytes(): number {
    return this.persistentTop;
  }

  allocateScratch(bytes: number): number {
    const offset = this.transientTop;
    this.transientTop = this.reserve(offset, bytes);
    return offset;
  }

  /** A mark to release scratch back to. */
  get scratchMark(): number {
    return this.transientTop;
  }

  releaseScratch(mark = this.persistentTop): void {
    this.transientTop = mark;
  }

  f64(offset: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, offset, length);
  }

  /**
   * Copies a block into this memory: int32 block-relative indptr, and values as float64 when they
   * are float64, else float32 (converted natively; 64-bit integer values must be converted first).
   */
  store(block: CsrMatrix | StorableBlock, persistent: boolean): StoredCsr {
    const { nRows } = block;
    const first = block.indptr[0];
    const nnz = block.indptr[nRows] - first;
    const valueBytes = block.data instanceof Float64Array ? 8 : 4;
    const allocate = (bytes: number): number => (persistent ? this.allocatePersistent(bytes) : this.allocateScratch(bytes));
    const indptr = allocate((nRows + 1) * 4);
    const indices = allocate(nnz * 4);
    const data = allocate(nnz * valueBytes);
    const buffer = this.memory.buffer;
    const indptrView = new Int32Array(buffer, indptr, nRows + 1);
    for (let r = 0; r <= nRows; r++) indptrView[r] = block.indptr[r] - first;
    new Int32Array(buffer, indices, nnz).set(block.indices.subarray(first, first + nnz));
    const values = valueBytes === 8 ? new Float64Array(buffer, data, nnz) : new Float32Array(buffer, data, nnz);
    values.set(block.data.subarray(first, first + nnz));
    return { nRows, nnz, indptr, indices, data, valueBytes };
  }

  /** A CsrMatrix of views on a stored block (valid until the memory grows). */
  view(stored: StoredCsr, nCols: number): CsrMatrix {
    const buffer = this.memory.buffer;
    return {
      nRows: stored.nRows,
      nCols,
      indptr: new Int32Array(buffer, stored.indptr, stored.nRows + 1),
      indices: new Int32Array(buffer, stored.indices, stored.nnz),
      data: stored.valueBytes === 8 ? new Float64Array(buffer, stored.data, stored.nnz) : new Float32Array(buffer, stored.data, stored.nnz),
    };
  }

  private reserve(offset: number, bytes: number): number {
    const end = offset + Math.ceil(bytes / ALIGN) * ALIGN;
    const needed = Math.ceil(end / PAGE);
    const current = this.memory.buffer.byteLength / PAGE;
    if (needed > current) {
      if (needed > MAX_PAGES) throw new CellarError('internal', 'PCA needs more than 4 GiB of working memory in one thread: use more threads or a smaller memory budget.');
      // Grow geometrically so that many small blocks do not each pay for a grow.
      this.memory.grow(Math.min(MAX_PAGES, Math.max(needed, Math.ceil(current * 1.5))) - current);
    }
    return end;
  }
}
