import { useEffect, useId, useRef, useState } from "react";

import {
  buildExpression,
  newCondition,
  operatorsFor,
  type Feature,
  type Operator,
  type RuleRow,
} from "../lib/expression";

const OPERATOR_LABELS: Record<Operator, string> = {
  "==": "is",
  "!=": "is not",
  "<": "<",
  "<=": "≤",
  ">": ">",
  ">=": "≥",
  in: "is one of",
  "not in": "is none of",
};

interface Props {
  features: Feature[];
  /** Called with the rule's text, or null while a row is incomplete. */
  onChange: (expression: string | null) => void;
}

/** Build a group from rows of (feature, operator, value), joined by and / or. */
type KeyedRow = RuleRow & { key: number };
let nextKey = 0;
const keyed = (row: RuleRow): KeyedRow => ({ ...row, key: nextKey++ });

export function RuleBuilder({ features, onChange }: Props) {
  const [rows, setRows] = useState<KeyedRow[]>(() =>
    features[0] ? [keyed({ join: "and", condition: newCondition(features[0]) })] : [],
  );
  const list = useRef<HTMLOListElement>(null);
  const [focusLast, setFocusLast] = useState(false);
  useEffect(() => {
    if (!focusLast) return;
    list.current?.querySelector<HTMLElement>("li:last-child select:not([aria-label^='Join'])")?.focus();
    setFocusLast(false);
  }, [focusLast]);
  const expression = buildExpression(rows, features);

  useEffect(() => onChange(expression), [expression, onChange]);

  const update = (index: number, next: RuleRow) =>
    setRows((current) => current.map((row, i) => (i === index ? { ...next, key: row.key } : row)));

  return (
    <fieldset className="rule-builder">
      <legend>Rule builder</legend>
      {rows.length === 0 && <p>Add a condition to describe the group.</p>}
      <ol ref={list}>
        {rows.map((row, index) => (
          <ConditionRow
            key={row.key}
            index={index}
            row={row}
            features={features}
            onChange={(next) => update(index, next)}
            onRemove={() => setRows((current) => current.filter((_, i) => i !== index))}
          />
        ))}
      </ol>
      <button
        type="button"
        onClick={() => {
          if (!features[0]) return;
          const first = features[0];
          setRows((current) => [...current, keyed({ join: "and", condition: newCondition(first) })]);
          setFocusLast(true);
        }}
      >
        Add a condition
      </button>
      <p className="rule-text">
        Rule:{" "}
        <output aria-label="Rule text">
          {expression ?? "complete every condition to see the rule"}
        </output>
      </p>
    </fieldset>
  );
}

interface RowProps {
  index: number;
  row: RuleRow;
  features: Feature[];
  onChange: (row: RuleRow) => void;
  onRemove: () => void;
}

function ConditionRow({ index, row, features, onChange, onRemove }: RowProps) {
  const id = useId();
  const feature = features.find((f) => f.name === row.condition.feature);
  const operators = operatorsFor(feature);
  const multiple = row.condition.operator === "in" || row.condition.operator === "not in";
  const set = (condition: Partial<RuleRow["condition"]>) =>
    onChange({ ...row, condition: { ...row.condition, ...condition } });
  const n = index + 1;

  return (
    <li className="condition">
      {index > 0 && (
        <select
          aria-label={`Join condition ${n}`}
          value={row.join}
          onChange={(e) => onChange({ ...row, join: e.target.value as "and" | "or" })}
        >
          <option value="and">and</option>
          <option value="or">or</option>
        </select>
      )}
      <select
        aria-label={`Feature of condition ${n}`}
        value={row.condition.feature}
        onChange={(e) => {
          const next = features.find((f) => f.name === e.target.value);
          if (next) onChange({ ...row, condition: newCondition(next) });
        }}
      >
        {features.map((f) => (
          <option key={f.name} value={f.name}>
            {f.name}
          </option>
        ))}
      </select>
      <select
        aria-label={`Operator of condition ${n}`}
        value={row.condition.operator}
        onChange={(e) => {
          const operator = e.target.value as Operator;
          const nowMultiple = operator === "in" || operator === "not in";
          set({ operator, values: nowMultiple ? row.condition.values : row.condition.values.slice(0, 1) });
        }}
      >
        {operators.map((op) => (
          <option key={op} value={op}>
            {OPERATOR_LABELS[op]}
          </option>
        ))}
      </select>
      {feature?.kind === "categorical" ? (
        <select
          aria-label={`Value of condition ${n}`}
          multiple={multiple}
          size={multiple ? Math.min(6, feature.categories?.length ?? 1) : undefined}
          value={multiple ? row.condition.values : (row.condition.values[0] ?? "")}
          onChange={(e) =>
            set({ values: Array.from(e.target.selectedOptions, (option) => option.value) })
          }
        >
          {(feature.categories ?? []).map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          aria-label={`Value of condition ${n}`}
          inputMode="decimal"
          value={row.condition.values[0] ?? ""}
          placeholder={
            feature?.min !== undefined && feature?.min !== null
              ? `${feature.min} to ${feature.max}`
              : "a number"
          }
          onChange={(e) => set({ values: [e.target.value] })}
        />
      )}
      <button type="button" onClick={onRemove} aria-label={`Remove condition ${n}`}>
        Remove
      </button>
    </li>
  );
}
