// Helpers shared by the store-*.test.ts files: temp folders, seeded random CSR data, and
// snapshots of a store folder (to prove old versions' files are untouched).
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CsrBlock } from '../../src/main/engine/columns/column-model';

export function tempStoreDir(label: string): { dir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), `cellar-${label}-`));
  return { dir: join(root, 'store'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A dense-backed reference matrix with sparse CSR views for writing. */
export interface ReferenceMatrix {
  nRows: number;
  nCols: number;
  /** Row r: sorted column indices and values. */
  rows: { columns: number[]; values: number[] }[];
}

export function randomCounts(nRows: number, nCols: number, seed: number, options: { density?: number; maxValue?: number; fractional?: boolean } = {}): ReferenceMatrix {
  const random = seededRandom(seed);
  const density = options.density ?? 0.1;
  const maxValue = options.maxValue ?? 20;
  const rows: ReferenceMatrix['rows'] = [];
  for (let r = 0; r < nRows; r++) {
    const columns: number[] = [];
    const values: number[] = [];
    // Some rows are empty on purpose.
    if (random() < 0.05) {
      rows.push({ columns, values });
      continue;
    }
    for (let c = 0; c < nCols; c++) {
      if (random() < density) {
        columns.push(c);
        const count = 1 + Math.floor(random() * random() * maxValue);
        values.push(options.fractional ? Math.fround(count + 0.25) : count);
      }
    }
    rows.push({ columns, values });
  }
  return { nRows, nCols, rows };
}

/** CSR row blocks of the reference, `blockRows` rows each, starting at obs joinid `firstRow`. */
export function csrBlocks(
  matrix: ReferenceMatrix,
  blockRows: number,
  firstRow: number,
  makeData: (values: number[]) => CsrBlock['data'] = (values) => Float32Array.from(values),
): CsrBlock[] {
  const blocks: CsrBlock[] = [];
  for (let r0 = 0; r0 < matrix.nRows; r0 += blockRows) {
    const r1 = Math.min(matrix.nRows, r0 + blockRows);
    const indptr = new Int32Array(r1 - r0 + 1);
    const indices: number[] = [];
    const values: number[] = [];
    for (let r = r0; r < r1; r++) {
      indices.push(...matrix.rows[r].columns);
      values.push(...matrix.rows[r].values);
      indptr[r - r0 + 1] = indices.length;
    }
    blocks.push({ rowStart: firstRow + r0, nRows: r1 - r0, nCols: matrix.nCols, indptr, indices: Int32Array.from(indices), data: makeData(values) });
  }
  return blocks;
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** name → [size, mtimeMs, sha256] for every file under the store folder. */
export function snapshotFolder(dir: string): Map<string, [number, number, string]> {
  const out = new Map<string, [number, number, string]>();
  const walk = (folder: string, prefix: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const name = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path, name);
      else {
        const stat = statSync(path);
        out.set(name, [stat.size, stat.mtimeMs, sha256(path)]);
      }
    }
  };
  walk(dir, '');
  return out;
}
