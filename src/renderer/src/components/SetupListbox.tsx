import { memo, useEffect, useRef, useState, type KeyboardEvent, type MouseEvent, type ReactNode } from 'react';

export interface ListboxOption {
  readonly key: string;
  readonly label: ReactNode;
  /** A second, quieter line (the XKB name, the country). */
  readonly hint?: ReactNode;
}

interface Props {
  readonly id: string;
  readonly labelledBy: string;
  readonly describedBy?: string;
  readonly options: readonly ListboxOption[];
  readonly selectedKey: string | null;
  readonly onSelect: (key: string) => void;
  /** Shown instead of the list when nothing matches. */
  readonly emptyText: string;
  readonly busy?: boolean;
}

const PAGE = 8;

/**
 * A single-select listbox for the setup pages (keyboard layouts and variants, time zone results):
 * one tab stop, the arrows move the selection (it follows focus, as in a native list), Home/End
 * and Page Up/Down jump, Enter and Space select. The active option is announced through
 * aria-activedescendant, so focus never leaves the list and nothing re-renders but two options.
 * Only the options given are rendered: callers pass what matches the search, not everything.
 * The list's test id is its id; each option's is `<id>-option-<key>`, never its position.
 */
export function SetupListbox({ id, labelledBy, describedBy, options, selectedKey, onSelect, emptyText, busy }: Props) {
  const listRef = useRef<HTMLDivElement>(null);
  const [activeKey, setActiveKey] = useState<string | null>(null);
  const indexOf = (key: string | null) => (key === null ? -1 : options.findIndex((o) => o.key === key));
  // Active: what the person last moved to, else the selection, else the first option.
  let active = indexOf(activeKey);
  if (active < 0) active = indexOf(selectedKey);
  if (active < 0 && options.length > 0) active = 0;
  const activeId = active >= 0 ? `${id}-opt-${active}` : undefined;

  useEffect(() => {
    if (!activeId) return;
    const el = listRef.current?.querySelector<HTMLElement>(`[id="${activeId}"]`);
    el?.scrollIntoView?.({ block: 'nearest' });
  }, [activeId]);

  if (options.length === 0) {
    return (
      <p id={id} className="listbox-empty" data-testid={id}>
        {emptyText}
      </p>
    );
  }

  const moveTo = (index: number) => {
    const option = options[Math.min(Math.max(index, 0), options.length - 1)]!;
    setActiveKey(option.key);
    if (option.key !== selectedKey) onSelect(option.key);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const moves: Record<string, number> = {
      ArrowDown: active + 1,
      ArrowUp: active - 1,
      Home: 0,
      End: options.length - 1,
      PageDown: active + PAGE,
      PageUp: active - PAGE,
    };
    if (event.key in moves) {
      event.preventDefault();
      moveTo(moves[event.key]!);
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      if (active >= 0) moveTo(active);
    }
  };

  // One click handler for all options (event delegation), so options need no callbacks and stay memoised.
  const onClick = (event: MouseEvent<HTMLDivElement>) => {
    const option = (event.target as HTMLElement).closest<HTMLElement>('[role="option"]');
    const index = Number(option?.dataset.index ?? NaN);
    if (!Number.isNaN(index)) moveTo(index);
  };

  return (
    <div
      ref={listRef}
      id={id}
      role="listbox"
      tabIndex={0}
      className="listbox"
      aria-labelledby={labelledBy}
      aria-describedby={describedBy}
      aria-activedescendant={activeId}
      aria-busy={busy || undefined}
      data-testid={id}
      onKeyDown={onKeyDown}
      onClick={onClick}
    >
      {options.map((o, i) => (
        <Option key={o.key} id={`${id}-opt-${i}`} testId={`${id}-option-${o.key}`} option={o} selected={o.key === selectedKey} active={i === active} index={i} />
      ))}
    </div>
  );
}

interface OptionProps {
  readonly id: string;
  readonly testId: string;
  readonly option: ListboxOption;
  readonly selected: boolean;
  readonly active: boolean;
  readonly index: number;
}

// Memoised: moving through a long list re-renders the two options that changed, not all of them.
const Option = memo(function Option({ id, testId, option, selected, active, index }: OptionProps) {
  return (
    <div
      id={id}
      role="option"
      aria-selected={selected}
      className={`listbox-option${selected ? ' selected' : ''}${active ? ' active' : ''}`}
      data-index={index}
      data-testid={testId}
    >
      <span className="listbox-check" aria-hidden="true">
        {selected ? '✓' : ''}
      </span>
      <span className="listbox-text">
        <span className="listbox-label">{option.label}</span>
        {option.hint && <span className="listbox-hint">{option.hint}</span>}
      </span>
    </div>
  );
});
