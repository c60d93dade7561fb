import { useId, useState } from 'react';
import type { ErrorValue } from '../../../../shared/errors';
import { ErrorMessage } from '../../components/ErrorMessage';

interface Props {
  label: string;
  placeholder: string;
  applied: string;
  error: ErrorValue | null;
  /** Resolves when the filter was checked (the caller shows its error inline otherwise). */
  onApply(filter: string): void;
  testId: string;
}

/** A value_filter box: Enter or Apply runs it; a parse error appears right under it, caret line included. */
export function FilterBox({ label, placeholder, applied, error, onApply, testId }: Props) {
  const [text, setText] = useState(applied);
  const id = useId();
  const hintId = useId();
  return (
    <form
      className="filter-box"
      onSubmit={(e) => {
        e.preventDefault();
        onApply(text.trim());
      }}
    >
      <label htmlFor={id}>{label}</label>
      <div className="filter-row">
        <input
          id={id}
          className="filter-input"
          value={text}
          placeholder={placeholder}
          spellCheck={false}
          autoComplete="off"
          aria-describedby={hintId}
          aria-invalid={error !== null}
          data-testid={testId}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="button">
          Apply
        </button>
        <button
          type="button"
          className="button button-quiet"
          disabled={!text && !applied}
          onClick={() => {
            setText('');
            onApply('');
          }}
        >
          Clear
        </button>
      </div>
      <p id={hintId} className="hint">
        Comparisons (== != &lt; &gt;), in [..], and / or / not, isna(col); quote text values.
      </p>
      <ErrorMessage error={error} />
    </form>
  );
}
