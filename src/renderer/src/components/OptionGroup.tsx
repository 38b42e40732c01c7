/** One radio group of labelled options, each with a one-line explanation under its label; `<name>-<value>` is each radio's id and test id. */
export interface Option<T extends string> {
  readonly value: T;
  readonly label: string;
  readonly hint: string;
}

interface Props<T extends string> {
  readonly name: string;
  readonly legend: string;
  readonly options: readonly Option<T>[];
  readonly value: T;
  readonly onChange: (value: T) => void;
  /** Ids of errors about the group as a whole. */
  readonly describedBy?: string;
}

export function OptionGroup<T extends string>({ name, legend, options, value, onChange, describedBy }: Props<T>) {
  return (
    <fieldset className="option-group" aria-describedby={describedBy}>
      <legend className="field-label">{legend}</legend>
      <div className="option-list">
        {options.map((o) => {
          const id = `${name}-${o.value}`;
          return (
            <div key={o.value} className="option">
              <input
                type="radio"
                id={id}
                name={name}
                value={o.value}
                checked={value === o.value}
                onChange={() => onChange(o.value)}
                aria-describedby={`${id}-hint`}
                data-testid={id}
              />
              <div>
                <label htmlFor={id} className="option-label">
                  {o.label}
                </label>
                <p id={`${id}-hint`} className="field-hint">
                  {o.hint}
                </p>
              </div>
            </div>
          );
        })}
      </div>
    </fieldset>
  );
}
