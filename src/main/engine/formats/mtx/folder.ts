// Where the three files of a 10x Matrix Market folder are: matrix.mtx, barcodes.tsv and
// features.tsv (Cell Ranger ≥ 3) or genes.tsv (Cell Ranger ≤ 2), each maybe gzipped, and
// maybe sharing a prefix as GEO serves them (GSM123_matrix.mtx.gz, GSM123_barcodes.tsv.gz, …).
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CellarError } from '../../../../shared/errors';

export interface MatrixMarketFiles {
  dir: string;
  /** What the three file names share before matrix.mtx, barcodes.tsv, … ("" for Cell Ranger's own folders). */
  prefix: string;
  matrix: string;
  barcodes: string;
  features: string;
  /** features.tsv (v3: id, name, type) or genes.tsv (v2: id, name). */
  featuresKind: 'features' | 'genes';
}

const MATRIX_NAME = /^(.*)matrix\.mtx(\.gz)?$/i;

export function isMatrixMarketName(name: string): boolean {
  return MATRIX_NAME.test(name);
}

const LAYOUT = 'a 10x Matrix Market folder holds matrix.mtx, barcodes.tsv and features.tsv (or genes.tsv), each maybe gzipped';

/** The files of the folder `path` (or of the folder of the matrix file `path`). */
export function locateMatrixMarket(path: string): MatrixMarketFiles {
  let dir: string;
  let matrixName: string;
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new CellarError('not_found', `${path} does not exist.`);
  }
  if (isDir) {
    dir = path;
    const names = readdirSync(dir).filter((n) => MATRIX_NAME.test(n));
    if (names.length === 0) throw new CellarError('unknown_format', `The folder ${basename(dir)} has no matrix.mtx or matrix.mtx.gz: ${LAYOUT}.`);
    if (names.length > 1) throw new CellarError('unknown_format', `The folder ${basename(dir)} holds several matrices (${names.join(', ')}); name the one to read.`);
    matrixName = names[0]!;
  } else {
    dir = dirname(path);
    matrixName = basename(path);
  }
  const prefix = MATRIX_NAME.exec(matrixName)?.[1] ?? '';
  const present = new Set(readdirSync(dir));
  const find = (stem: string): string | null => {
    for (const name of [`${prefix}${stem}`, `${prefix}${stem}.gz`]) if (present.has(name)) return join(dir, name);
    return null;
  };
  const barcodes = find('barcodes.tsv');
  if (!barcodes) throw new CellarError('not_found', `The folder ${basename(dir)} has no ${prefix}barcodes.tsv or ${prefix}barcodes.tsv.gz beside ${matrixName}: ${LAYOUT}.`);
  const features = find('features.tsv');
  const genes = features ? null : find('genes.tsv');
  if (!features && !genes) throw new CellarError('not_found', `The folder ${basename(dir)} has no ${prefix}features.tsv or ${prefix}genes.tsv (maybe gzipped) beside ${matrixName}: ${LAYOUT}.`);
  return { dir, prefix, matrix: join(dir, matrixName), barcodes, features: (features ?? genes)!, featuresKind: features ? 'features' : 'genes' };
}

/** The names the files get in Cellar's storage: the standard ones, compression kept. */
export function storedNames(files: MatrixMarketFiles): { source: string; name: string }[] {
  const gz = (p: string) => (p.toLowerCase().endsWith('.gz') ? '.gz' : '');
  return [
    { source: files.matrix, name: `matrix.mtx${gz(files.matrix)}` },
    { source: files.barcodes, name: `barcodes.tsv${gz(files.barcodes)}` },
    { source: files.features, name: `${files.featuresKind}.tsv${gz(files.features)}` },
  ];
}
