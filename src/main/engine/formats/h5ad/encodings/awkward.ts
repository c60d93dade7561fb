// `awkward-array` 0.1.0: ragged arrays. Nothing downstream can hold them, so
// they are skipped; the registry records a notice naming the element.
import type { EncodingReader } from './context';

export const awkwardArrayEncoding: EncodingReader = {
  type: 'awkward-array',
  version: '0.1.0',
  read: () => ({ kind: 'skipped', encoding: 'awkward-array', reason: 'awkward arrays are not supported' }),
};
