import { useId, useRef, useState } from 'react';
import type { StoreColumn } from '../../../../shared/contract';
import type { ErrorValue } from '../../../../shared/errors';
import { ErrorMessage } from '../../components/ErrorMessage';
import { applyCompletion, applySuggestions, completeValue, type Completion, type ValueSuggestion } from './filter-help';

interface Props {
  label: string;
  placeholder: string;
  applied: string;
  error: ErrorValue | null;
  /** Resolves when the filter was checked (the caller shows its error inline otherwise). */
  onApply(filter: string): void;
  testId: string;
  /** The table's columns: their categories complete quoted values. */
  columns?: StoreColumn[];
  /** Values of the applied filter that no category holds, with what they likely meant. */
  suggestions?: ValueSuggestion[];
}

/** A value_filter box: Enter or Apply runs it; a parse error appears right under it, caret line included. */
export function FilterBox({ label, placeholder, applied, error, onApply, testId, columns = [], suggestions = [] }: Props) {
  const [text, setText] = useState(applied);
  // A filter applied from elsewhere (cells handed over by the Embeddings screen) shows in the box
  // too, in the same render as its count: set while rendering, not in an effect after the paint
  // (which left a moment where the count was shown beside an empty box).
  const [shownApplied, setShownApplied] = useState(applied);
  if (applied !== shownApplied) {
    setShownApplied(applied);
    if (applied) setText(applied);
  }
  const [completion, setCompletion] = useState<Completion | null>(null);
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const id = useId();
  const hintId = useId();
  const listId = useId();

  const update = (value: string, caret: number) => {
    setText(value);
    setCompletion(completeValue(value, caret, columns));
    setActive(0);
  };
  const choose = (value: string) => {
    if (!completion) return;
    const caret = input.current?.selectionStart ?? text.length;
    const next = applyCompletion(text, caret, completion, value);
    setText(next.text);
    setCompletion(null);
    requestAnimationFrame(() => {
      input.current?.focus();
      input.current?.setSelectionRange(next.caret, next.caret);
    });
  };

  return (
    <form
      className="filter-box"
      onSubmit={(e) => {
        e.preventDefault();
        setCompletion(null);
        onApply(text.trim());
      }}
    >
      <label htmlFor={id}>{label}</label>
      <div className="filter-row">
        <div className="filter-field">
          <input
            ref={input}
            id={id}
            className="filter-input"
            value={text}
            placeholder={placeholder}
            spellCheck={false}
            autoComplete="off"
            role="combobox"
            aria-expanded={completion !== null}
            aria-controls={listId}
            aria-autocomplete="list"
            aria-describedby={hintId}
            aria-invalid={error !== null}
            data-testid={testId}
            onChange={(e) => update(e.target.value, e.target.selectionStart ?? e.target.value.length)}
            onBlur={() => setTimeout(() => setCompletion(null), 150)}
            onKeyDown={(e) => {
              if (!completion) return;
              if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
                e.preventDefault();
                const step = e.key === 'ArrowDown' ? 1 : -1;
                setActive((i) => (i + step + completion.values.length) % completion.values.length);
              } else if (e.key === 'Tab' || (e.key === 'Enter' && completion.values[active] !== completion.partial)) {
                e.preventDefault();
                choose(completion.values[active]!);
              } else if (e.key === 'Escape') setCompletion(null);
            }}
          />
          {completion && (
            <ul id={listId} className="filter-completions" role="listbox" aria-label={`Values of ${completion.column}`} data-testid={`${testId}-completions`}>
              {completion.values.map((value, i) => (
                <li
                  key={value}
                  role="option"
                  aria-selected={i === active}
                  className={i === active ? 'active' : undefined}
                  onMouseDown={(e) => {
                    e.preventDefault();
                    choose(value);
                  }}
                >
                  {value}
                </li>
              ))}
            </ul>
          )}
        </div>
        <button type="submit" className="button">
          Apply
        </button>
        <button
          type="button"
          className="button button-quiet"
          disabled={!text && !applied}
          onClick={() => {
            setText('');
            setCompletion(null);
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
      {suggestions.length > 0 && (
        <p className="message message-warning filter-suggestion" role="status" data-testid={`${testId}-suggestion`}>
          Nothing matches.{' '}
          {suggestions.map((s, i) => (
            <span key={i}>
              {i > 0 && ' '}
              {s.column} has no &quot;{s.value}&quot;: did you mean &quot;{s.suggestion}&quot;?
            </span>
          ))}{' '}
          <button
            type="button"
            className="button button-small"
            onClick={() => {
              const fixed = applySuggestions(applied, suggestions);
              setText(fixed);
              onApply(fixed);
            }}
          >
            Use {suggestions.length === 1 ? `"${suggestions[0]!.suggestion}"` : 'these values'}
          </button>
        </p>
      )}
    </form>
  );
}
