// Progress of a long step: the contract's type, so a job's progress reaches the page as it is.
import type { Progress } from '../../../shared/contract';

export type { Progress };

export type ProgressFn = (progress: Progress) => void;

/** A matrix of the store as a biologist names it, for progress lines: "Writing expression values". */
export function matrixName(matrix: 'X' | 'raw' | { layer: string }): string {
  if (matrix === 'X') return 'expression values';
  if (matrix === 'raw') return 'the raw counts';
  return `the layer ${matrix.layer}`;
}
