// A completed job's result, typed by the job's kind (the contract types each kind's result).
import type { JobKind, JobResults, JobSnapshot } from '../../../shared/contract';

export function completedResult<K extends JobKind>(job: JobSnapshot | null, kind: K): JobResults[K] | null {
  if (!job || job.kind !== kind || job.state !== 'completed' || !job.result) return null;
  // Checked above: a job of this kind carries this kind's result.
  return job.result as JobResults[K];
}
