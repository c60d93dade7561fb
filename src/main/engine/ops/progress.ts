// Progress of a long step: the contract's type, so a job's progress reaches the page as it is.
import type { Progress } from '../../../shared/contract';

export type { Progress };

export type ProgressFn = (progress: Progress) => void;
