// Progress of a long step: a phase name and how far along it is.
export interface Progress {
  phase: string;
  done: number;
  total: number;
}

export type ProgressFn = (progress: Progress) => void;
