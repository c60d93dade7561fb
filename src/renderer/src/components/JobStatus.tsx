import { useState } from 'react';
import type { JobSnapshot } from '../../../shared/contract';
import { ErrorMessage } from './ErrorMessage';
import { jobResultLink } from '../state/job-result';
import { describeProgress } from '../../../shared/progress-text';

const STATE_LABEL: Record<JobSnapshot['state'], string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** One job: title, phase, a done/total bar, Cancel while it runs, its end state after. */
export function JobStatus({ job, onCancel, compact = false, repeats = 1 }: { job: JobSnapshot; onCancel?: (id: string) => void; compact?: boolean; repeats?: number }) {
  const link = jobResultLink(job);
  const { progress } = job;
  // A job stops at its next check of the cancel signal: until then, say the click was heard.
  const [cancelRequested, setCancelRequested] = useState(false);
  const fraction = progress && progress.total > 0 ? Math.min(1, progress.done / progress.total) : null;
  return (
    <div className={`job job-${job.state}${compact ? ' job-compact' : ''}`} data-testid="job" data-job-state={job.state} data-job-kind={job.kind}>
      <div className="job-head">
        {link ? (
          <a className="job-title job-open" href={link.href} title={link.label} aria-label={`${job.title}: ${link.label}`}>
            {job.title}
          </a>
        ) : (
          <span className="job-title">{job.title}</span>
        )}
        {repeats > 1 && (
          <span className="job-repeats" title={`${repeats} finished jobs with this title`}>
            ×{repeats}
          </span>
        )}
        <span className={`badge badge-${job.state}`}>{STATE_LABEL[job.state]}</span>
      </div>
      {job.state === 'running' && (
        <>
          <div className="job-phase">{progress ? describeProgress(progress) : 'Starting…'}</div>
          <progress
            className="job-progress"
            aria-label={`${job.title} progress`}
            max={1}
            value={fraction ?? undefined}
          />
          {onCancel && (
            <button
              type="button"
              className="button button-small"
              disabled={cancelRequested}
              onClick={() => {
                setCancelRequested(true);
                onCancel(job.id);
              }}
            >
              {cancelRequested ? 'Cancelling…' : 'Cancel'}
            </button>
          )}
        </>
      )}
      {job.state === 'failed' && job.error && <ErrorMessage error={job.error} />}
    </div>
  );
}
