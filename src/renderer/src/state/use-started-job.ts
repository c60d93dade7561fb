// A panel that starts one job at a time: the job it started (kept live by the app's job
// list), how to start the next, and the error a refused start gave.
import { useState } from 'react';
import type { JobSnapshot } from '../../../shared/contract';
import type { ErrorValue } from '../../../shared/errors';
import { toShownError } from '../api/call';
import { useApp } from './AppState';

export function useStartedJob() {
  const { trackJob, jobById } = useApp();
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<ErrorValue | null>(null);
  const start = async (work: () => Promise<JobSnapshot>) => {
    setError(null);
    try {
      const snapshot = await work();
      trackJob(snapshot);
      setJobId(snapshot.id);
    } catch (err) {
      setError(toShownError(err));
    }
  };
  return { job: jobById(jobId), start, error, setError };
}
