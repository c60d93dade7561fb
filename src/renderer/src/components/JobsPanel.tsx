import { useState } from 'react';
import type { JobSnapshot } from '../../../shared/contract';
import { useApp } from '../state/AppState';
import { JobStatus } from './JobStatus';

const SHOWN_FINISHED = 5;

/** Finished jobs with the same title and end state, newest first, as one card with a count. */
function groupFinished(jobs: JobSnapshot[]): { job: JobSnapshot; repeats: number }[] {
  const groups = new Map<string, { job: JobSnapshot; repeats: number }>();
  for (const job of jobs) {
    const key = `${job.state}\u0000${job.title}`;
    const group = groups.get(key);
    if (group) group.repeats++;
    else groups.set(key, { job, repeats: 1 });
  }
  return [...groups.values()];
}

/** Running jobs first, then the finished ones grouped and trimmed; a finished card opens its result. */
export function JobsPanel() {
  const { jobs, cancelJob } = useApp();
  const [showAll, setShowAll] = useState(false);
  const running = jobs.filter((j) => j.state === 'running');
  const finished = groupFinished(jobs.filter((j) => j.state !== 'running'));
  const shown = showAll ? finished : finished.slice(0, SHOWN_FINISHED);
  return (
    <section className="jobs-panel" aria-labelledby="jobs-heading">
      <h2 id="jobs-heading" className="sidebar-heading">
        Jobs
      </h2>
      {jobs.length === 0 ? (
        <p className="sidebar-empty">No jobs yet.</p>
      ) : (
        <>
          {running.length > 0 && (
            <ul className="jobs-list" aria-label="Running jobs">
              {running.map((job) => (
                <li key={job.id}>
                  <JobStatus job={job} onCancel={(id) => void cancelJob(id)} compact />
                </li>
              ))}
            </ul>
          )}
          {finished.length > 0 && (
            <>
              <h3 className="jobs-subheading">Finished</h3>
              <ul className="jobs-list" aria-label="Finished jobs">
                {shown.map(({ job, repeats }) => (
                  <li key={job.id}>
                    <JobStatus job={job} compact repeats={repeats} />
                  </li>
                ))}
              </ul>
              {finished.length > SHOWN_FINISHED && (
                <button type="button" className="button button-small button-quiet" onClick={() => setShowAll(!showAll)}>
                  {showAll ? 'Show fewer' : `Show all ${finished.length} finished`}
                </button>
              )}
            </>
          )}
        </>
      )}
    </section>
  );
}
