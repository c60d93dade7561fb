// `csr_matrix` / `csc_matrix` 0.1.0, and the pre-0.7 groups tagged with
// `h5sparse_format` / `h5sparse_shape` (the fallback routes them here).
import { isGroup, readAttribute } from '../h5';
import { openSparseMatrix } from '../matrix';
import { badElement, type EncodingReader, type H5Node, type ReadContext } from './context';

function readShape(ctx: ReadContext, path: string, node: H5Node): [number, number] {
  const raw = readAttribute(node, 'shape') ?? readAttribute(node, 'h5sparse_shape');
  const dims = raw !== undefined && (Array.isArray(raw) || ArrayBuffer.isView(raw)) ? Array.from(raw as ArrayLike<number | bigint>, Number) : [];
  if (dims.length !== 2 || dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw badElement(ctx, path, 'sparse matrix has no valid 2-d shape attribute');
  }
  return [dims[0], dims[1]];
}

function sparseReader(type: 'csr_matrix' | 'csc_matrix'): EncodingReader {
  return {
    type,
    version: '0.1.0',
    read(ctx, path, node) {
      if (!isGroup(node)) throw badElement(ctx, path, `${type} must be a group with data, indices and indptr`);
      const format = type === 'csc_matrix' ? 'csc' : 'csr';
      return { kind: 'matrix', handle: openSparseMatrix(ctx, path, node, format, readShape(ctx, path, node)) };
    },
  };
}

export const csrEncoding = sparseReader('csr_matrix');
export const cscEncoding = sparseReader('csc_matrix');
