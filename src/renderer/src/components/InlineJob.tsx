// A job shown where it was started: its progress and cancel button, then what it made.
import type { ReactNode } from 'react';
import type { JobSnapshot } from '../../../shared/contract';
import { useApp } from '../state/AppState';
import { JobStatus } from './JobStatus';

export function InlineJob({ job, children }: { job: JobSnapshot | null | undefined; children?: ReactNode }) {
  const { cancelJob } = useApp();
  if (!job) return null;
  return (
    <div className="inline-job">
      <JobStatus job={job} onCancel={(id) => void cancelJob(id)} />
      {children}
    </div>
  );
}
