// What X appears to hold, in words: one sentence shared by `cellar inspect` and the inspector.
import type { XValueHint } from './result-types';
import { formatCount } from './format-number';

const KIND_WORDS: Record<XValueHint['kind'], string> = {
  counts: 'integer counts',
  normalized: 'normalised: non-negative, not whole numbers',
  scaled: 'scaled: has negative values',
  empty: 'no stored values to judge by',
};

/** "integer counts (10,000 stored values sampled, 0 to 57)". */
export function describeXValues(hint: XValueHint): string {
  if (hint.kind === 'empty' || hint.min === null || hint.max === null) return KIND_WORDS.empty;
  const range = `${Number(hint.min.toPrecision(4))} to ${Number(hint.max.toPrecision(4))}`;
  return `${KIND_WORDS[hint.kind]} (${formatCount(hint.sampled)} stored values sampled, ${range})`;
}
