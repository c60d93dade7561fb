// What every encoding reader receives and returns. Readers never import the
// registry: they dispatch children through ctx.readElement, which keeps the
// module graph acyclic.
import type { Dataset, Group } from 'h5wasm';
import type { H5File } from '../h5';
import { CellarError } from '../../../../../shared/errors';
import type { Column, DataFrame } from '../../../columns/column-model';
import type { AnnDataContent, DenseHandle, MatrixHandle, RawHandle } from '../types';

export interface ReadContext {
  file: H5File;
  /** File name for messages. */
  fileLabel: string;
  /** Skipped elements, in the order met. */
  notices: string[];
  /** Throws once the file is closed, so lazy handles fail clearly instead of reading freed state. */
  assertOpen(): void;
  /** Reads any element through the encoding registry (with legacy fallbacks). */
  readElement(path: string): Element;
}

/** The result of reading one element; heavy data stays behind handles. */
export type Element =
  | { kind: 'column'; column: Column }
  | { kind: 'dense'; handle: DenseHandle }
  | { kind: 'matrix'; handle: MatrixHandle }
  | { kind: 'dataframe'; frame: DataFrame }
  | { kind: 'dict'; path: string; keys: string[] }
  | { kind: 'scalar'; value: string | number | bigint | boolean }
  | { kind: 'null' }
  | { kind: 'recarray'; fields: { name: string; column: Column }[] }
  | { kind: 'raw'; raw: RawHandle }
  | { kind: 'anndata'; content: AnnDataContent }
  | { kind: 'skipped'; encoding: string; reason: string };

export type H5Node = Group | Dataset;

/** One registry entry: adding an encoding is adding one of these. */
export interface EncodingReader {
  type: string;
  version: string;
  read(ctx: ReadContext, path: string, node: H5Node): Element;
}

/** "/obs/cell_type" → "obs/cell_type": how element paths appear in messages. */
export function displayPath(path: string): string {
  const trimmed = path.replace(/^\/+/, '');
  return trimmed === '' ? '/' : trimmed;
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** The one way element problems become user-facing errors: "FILE: obs/cell_type: reason". */
export function badElement(ctx: Pick<ReadContext, 'fileLabel'>, path: string, reason: string): CellarError {
  return new CellarError('bad_element', `${ctx.fileLabel}: ${displayPath(path)}: ${reason}`);
}

/** Records a skipped element once, however often it is met. */
export function notice(ctx: Pick<ReadContext, 'notices'>, message: string): void {
  if (!ctx.notices.includes(message)) ctx.notices.push(message);
}
