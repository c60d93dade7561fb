// `dict` 0.1.0: a group of named elements (layers, obsm, uns, nested uns, …).
import { isGroup } from '../h5';
import { badElement, type EncodingReader } from './context';

export const dictEncoding: EncodingReader = {
  type: 'dict',
  version: '0.1.0',
  read(ctx, path, node) {
    if (!isGroup(node)) throw badElement(ctx, path, 'a dict must be a group');
    return { kind: 'dict', path, keys: node.keys() };
  },
};
