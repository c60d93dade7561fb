// Files already imported into the Library, offered for an append: the chosen one is opened
// by the service (artifact:inspect) and joins the files to append like a chosen file.
import { useId, useState } from 'react';
import type { OpenedFile } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import { call, toShownError } from '../../api/call';
import { useApp } from '../../state/AppState';
import { formatCount } from '../../format';

export function LibraryFilePicker({ onFiles, onErrors }: { onFiles(files: OpenedFile[]): void; onErrors(errors: ErrorValue[]): void }) {
  const { library } = useApp();
  const [choice, setChoice] = useState('');
  const id = useId();
  const files = library?.artifacts ?? [];
  if (!files.length) return null;
  const add = async (ref: string) => {
    try {
      onFiles([await call('artifact:inspect', { ref })]);
      setChoice('');
    } catch (err) {
      onErrors([toShownError(err)]);
    }
  };
  return (
    <div className="field">
      <label htmlFor={id}>From the Library</label>
      <select
        id={id}
        value={choice}
        onChange={(e) => {
          setChoice(e.target.value);
          if (e.target.value) void add(e.target.value);
        }}
      >
        <option value="">Add an imported file…</option>
        {files.map((a) => (
          <option key={a.uid} value={a.uid}>
            {a.key} ({formatCount(a.nObservations)} cells)
          </option>
        ))}
      </select>
    </div>
  );
}
