// Getting files from the user: the native dialog on the desktop, an upload input in the
// browser, and drag-and-drop in both. The renderer only ever holds tokens, never paths.
import { useId, useRef, useState, type DragEvent, type ReactNode } from 'react';
import type { OpenedFile } from '../../../shared/contract';
import type { ErrorValue } from '../../../shared/errors';
import { api, isBrowserMode } from '../api/client';
import { call, toShownError } from '../api/call';
import { DATASET_ACCEPT } from '../../../shared/dataset-files';

async function filesFromBrowser(files: File[]): Promise<{ opened: OpenedFile[]; errors: ErrorValue[] }> {
  const opened: OpenedFile[] = [];
  const errors: ErrorValue[] = [];
  for (const file of files) {
    try {
      if (!api.fileFromDrop) throw new Error('This window cannot receive dropped files.');
      opened.push(await api.fileFromDrop(file));
    } catch (err) {
      errors.push({ code: 'io_error', message: `${file.name}: ${toShownError(err).message}` });
    }
  }
  return { opened, errors };
}

interface FileSourceProps {
  onFiles(files: OpenedFile[]): void;
  onErrors(errors: ErrorValue[]): void;
}

/** "Add files": the open dialog (desktop) or a hidden multi-file input (browser). */
export function AddFilesButton({
  onFiles,
  onErrors,
  label = 'Add files…',
  accept = DATASET_ACCEPT,
  inputLabel = 'Choose dataset files to upload (.h5ad, .h5, .loom)',
  testId = 'file-input',
}: FileSourceProps & { label?: string; accept?: string; inputLabel?: string; testId?: string }) {
  const input = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const [busy, setBusy] = useState(false);

  const receive = async (work: () => Promise<{ opened: OpenedFile[]; errors: ErrorValue[] }>) => {
    setBusy(true);
    try {
      const { opened, errors } = await work();
      if (opened.length) onFiles(opened);
      onErrors(errors);
    } finally {
      setBusy(false);
    }
  };

  const choose = () => {
    if (isBrowserMode) input.current?.click();
    else
      void receive(async () => {
        try {
          return { opened: await call('file:choose', accept.includes('.h5ad') ? undefined : { kind: 'table' }), errors: [] };
        } catch (err) {
          return { opened: [], errors: [toShownError(err)] };
        }
      });
  };

  return (
    <>
      <button type="button" className="button" onClick={choose} disabled={busy}>
        {busy ? 'Adding…' : label}
      </button>
      {isBrowserMode && (
        <input
          id={inputId}
          ref={input}
          type="file"
          multiple
          accept={accept}
          hidden
          aria-label={inputLabel}
          data-testid={testId}
          onChange={(e) => {
            const files = Array.from(e.currentTarget.files ?? []);
            e.currentTarget.value = '';
            if (files.length) void receive(() => filesFromBrowser(files));
          }}
        />
      )}
    </>
  );
}

/**
 * "Add a Matrix Market folder…": the desktop's folder dialog. A browser uploads files one
 * by one, so a folder cannot arrive as one dataset there; the button is not shown.
 */
export function AddFolderButton({ onFiles, onErrors, label = 'Add a Matrix Market folder…' }: FileSourceProps & { label?: string }) {
  const [busy, setBusy] = useState(false);
  if (isBrowserMode) return null;
  const choose = async () => {
    setBusy(true);
    try {
      const opened = await call('file:choose', { kind: 'folder' });
      if (opened.length) onFiles(opened);
      onErrors([]);
    } catch (err) {
      onErrors([toShownError(err)]);
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" className="button" onClick={() => void choose()} disabled={busy}>
      {busy ? 'Adding…' : label}
    </button>
  );
}

/** A region that accepts dropped files (each one goes through api.fileFromDrop). */
export function DropZone({ onFiles, onErrors, children, label }: FileSourceProps & { children: ReactNode; label: string }) {
  const [over, setOver] = useState(false);
  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes('Files');
  return (
    <div
      className={`drop-zone${over ? ' drop-zone-over' : ''}`}
      aria-label={label}
      role="region"
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        setOver(true);
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false);
      }}
      onDrop={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setOver(false);
        const files = Array.from(e.dataTransfer.files);
        void filesFromBrowser(files).then(({ opened, errors }) => {
          if (opened.length) onFiles(opened);
          onErrors(errors);
        });
      }}
    >
      {children}
    </div>
  );
}
