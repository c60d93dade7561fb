import { useApp } from '../state/AppState';
import { JobStatus } from './JobStatus';

/** Every job of this session (and the ones re-attached after a reload), newest first. */
export function JobsPanel() {
  const { jobs, cancelJob } = useApp();
  return (
    <section className="jobs-panel" aria-labelledby="jobs-heading">
      <h2 id="jobs-heading" className="sidebar-heading">
        Jobs
      </h2>
      {jobs.length === 0 ? (
        <p className="sidebar-empty">No jobs yet.</p>
      ) : (
        <ul className="jobs-list">
          {jobs.slice(0, 12).map((job) => (
            <li key={job.id}>
              <JobStatus job={job} onCancel={(id) => void cancelJob(id)} compact />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
