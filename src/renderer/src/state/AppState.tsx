// App-wide state: the home's listing, every job (kept current from events, re-attached
// with jobs:list after a reload), the files waiting to be imported, the store in focus.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { AppInfo, JobSnapshot, LibraryListing, OpenedFile } from '../../../shared/contract';
import type { ErrorValue } from '../../../shared/errors';
import { api } from '../api/client';
import { call, toShownError } from '../api/call';
import { navigate } from './route';
import { usePendingFiles, type PendingFiles } from './pending-files';

interface AppState {
  info: AppInfo | null;
  library: LibraryListing | null;
  libraryError: ErrorValue | null;
  refreshLibrary(): Promise<void>;
  jobs: JobSnapshot[];
  jobById(id: string | null | undefined): JobSnapshot | null;
  /** Records a job a screen just started (its snapshot from *:start). */
  trackJob(job: JobSnapshot): void;
  cancelJob(id: string): Promise<void>;
  importQueue: PendingFiles;
  /** The store the user last worked with, so switching screens keeps it. */
  focusStore: string | null;
  setFocusStore(key: string): void;
}

const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error('useApp outside <AppProvider>');
  return state;
}

const isTerminal = (job: JobSnapshot) => job.state !== 'running';

/** Events and polls may arrive out of order: a finished job never goes back to running. */
function mergeJob(existing: JobSnapshot | undefined, incoming: JobSnapshot): JobSnapshot {
  if (!existing) return incoming;
  if (isTerminal(existing) && !isTerminal(incoming)) return existing;
  if (!isTerminal(incoming) && incoming.progress === null && existing.progress !== null) return existing;
  return incoming;
}

export function AppProvider({ children }: { children: ReactNode }) {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [library, setLibrary] = useState<LibraryListing | null>(null);
  const [libraryError, setLibraryError] = useState<ErrorValue | null>(null);
  const [jobMap, setJobMap] = useState<Record<string, JobSnapshot>>({});
  const [focusStore, setFocusStoreState] = useState<string | null>(() => sessionStorage.getItem('cellar.focusStore'));
  const importQueue = usePendingFiles();
  const addToQueue = importQueue.add;

  const refreshLibrary = useCallback(async () => {
    try {
      setLibrary(await call('library:list', undefined));
      setLibraryError(null);
    } catch (err) {
      setLibraryError(toShownError(err));
    }
  }, []);

  const mergeJobs = useCallback((incoming: JobSnapshot[]) => {
    setJobMap((prev) => {
      const next = { ...prev };
      for (const job of incoming) next[job.id] = mergeJob(prev[job.id], job);
      return next;
    });
  }, []);

  const trackJob = useCallback((job: JobSnapshot) => mergeJobs([job]), [mergeJobs]);

  const cancelJob = useCallback(
    async (id: string) => {
      try {
        mergeJobs([await call('jobs:cancel', { id })]);
      } catch {
        // The job may have ended meanwhile; the next poll shows its real state.
      }
    },
    [mergeJobs],
  );

  useEffect(() => {
    void call('app:info', undefined).then(setInfo, () => undefined);
    void refreshLibrary();
    void call('jobs:list', undefined).then(mergeJobs, () => undefined);
    const offs = [
      api.on('job:progress', (job) => mergeJobs([job])),
      api.on('job:finished', (job) => mergeJobs([job])),
      api.on('library:changed', () => void refreshLibrary()),
      api.on('file:opened', (file: OpenedFile) => {
        addToQueue([file]);
        navigate('inspect', { token: file.fileToken, name: file.name });
      }),
    ];
    // Listening now: take the files the OS opened before (a double-click that started the app).
    void call('file:pending', undefined).then((files) => {
      if (!files.length) return;
      addToQueue(files);
      const last = files[files.length - 1]!;
      navigate('inspect', { token: last.fileToken, name: last.name });
    }, () => undefined);
    return () => offs.forEach((off) => off());
  }, [refreshLibrary, mergeJobs, addToQueue]);

  const jobs = useMemo(() => Object.values(jobMap).sort((a, b) => b.startedAt.localeCompare(a.startedAt)), [jobMap]);
  const anyRunning = jobs.some((j) => j.state === 'running');

  // Events can be missed while the event stream reconnects: poll while work is under way.
  useEffect(() => {
    if (!anyRunning) return;
    const timer = setInterval(() => void call('jobs:list', undefined).then(mergeJobs, () => undefined), 2500);
    return () => clearInterval(timer);
  }, [anyRunning, mergeJobs]);

  // A finished job may have changed the listing even if its event was missed.
  const finishedCount = jobs.filter((j) => j.state === 'completed').length;
  const seenFinished = useRef(0);
  useEffect(() => {
    if (finishedCount > seenFinished.current) void refreshLibrary();
    seenFinished.current = finishedCount;
  }, [finishedCount, refreshLibrary]);

  const jobById = useCallback((id: string | null | undefined) => (id ? (jobMap[id] ?? null) : null), [jobMap]);
  const setFocusStore = useCallback((key: string) => {
    sessionStorage.setItem('cellar.focusStore', key);
    setFocusStoreState(key);
  }, []);

  const value: AppState = { info, library, libraryError, refreshLibrary, jobs, jobById, trackJob, cancelJob, importQueue, focusStore, setFocusStore };
  return <AppContext.Provider value={value}>{children}</AppContext.Provider>;
}
