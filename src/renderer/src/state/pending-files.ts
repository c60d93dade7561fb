// Files chosen for an import or an append, each checked with file:inspect as it arrives
// so a file that is not an h5ad is flagged with the engine's own message at once.
import { useCallback, useState } from 'react';
import type { InspectSummary, OpenedFile } from '../../../shared/contract';
import type { ErrorValue } from '../../../shared/errors';
import { call, toShownError } from '../api/call';

export type PendingFile =
  | { file: OpenedFile; status: 'checking' }
  | { file: OpenedFile; status: 'ok'; summary: InspectSummary }
  | { file: OpenedFile; status: 'error'; error: ErrorValue };

export interface PendingFiles {
  entries: PendingFile[];
  add(files: OpenedFile[]): void;
  remove(fileToken: string): void;
  clear(): void;
}

export function usePendingFiles(): PendingFiles {
  const [entries, setEntries] = useState<PendingFile[]>([]);

  const settle = useCallback((fileToken: string, next: (file: OpenedFile) => PendingFile) => {
    setEntries((prev) => prev.map((e) => (e.file.fileToken === fileToken ? next(e.file) : e)));
  }, []);

  const add = useCallback(
    (files: OpenedFile[]) => {
      setEntries((prev) => {
        const known = new Set(prev.map((e) => e.file.fileToken));
        return [...prev, ...files.filter((f) => !known.has(f.fileToken)).map((file): PendingFile => ({ file, status: 'checking' }))];
      });
      for (const file of files) {
        call('file:inspect', { fileToken: file.fileToken }).then(
          (summary) => settle(file.fileToken, (f) => ({ file: f, status: 'ok', summary })),
          (err: unknown) => settle(file.fileToken, (f) => ({ file: f, status: 'error', error: toShownError(err) })),
        );
      }
    },
    [settle],
  );

  const remove = useCallback((fileToken: string) => setEntries((prev) => prev.filter((e) => e.file.fileToken !== fileToken)), []);
  const clear = useCallback(() => setEntries([]), []);
  return { entries, add, remove, clear };
}
