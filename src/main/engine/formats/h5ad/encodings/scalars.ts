// 0-d datasets (`string`, `numeric-scalar` 0.2.0) and `null` 0.1.0.
import { datasetShape, elementDtype, isDataset } from '../h5';
import { badElement, type EncodingReader, type Element, type H5Node, type ReadContext } from './context';

function readScalar(ctx: ReadContext, path: string, node: H5Node): Element {
  if (!isDataset(node)) throw badElement(ctx, path, 'expected a 0-d dataset for a scalar, found a group');
  const shape = datasetShape(node);
  if (shape === null) return { kind: 'null' };
  if (shape.length !== 0 && !(shape.length === 1 && shape[0] === 1)) {
    throw badElement(ctx, path, `a scalar must be 0-dimensional, found shape ${shape.join(' × ')}`);
  }
  const dtype = elementDtype(node.metadata);
  if (dtype === 'other') return { kind: 'skipped', encoding: 'numeric-scalar', reason: 'unsupported scalar type (e.g. complex)' };
  let value = node.value as unknown;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) value = (value as ArrayLike<unknown>)[0];
  if (dtype === 'bool') return { kind: 'scalar', value: Boolean(value) };
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') return { kind: 'scalar', value };
  throw badElement(ctx, path, 'could not read the scalar value');
}

export const stringScalarEncoding: EncodingReader = { type: 'string', version: '0.2.0', read: readScalar };
export const numericScalarEncoding: EncodingReader = { type: 'numeric-scalar', version: '0.2.0', read: readScalar };

export const nullEncoding: EncodingReader = {
  type: 'null',
  version: '0.1.0',
  read: () => ({ kind: 'null' }),
};
