import { useEffect, useId, useState } from "react";

import type { Schemas } from "../api/client";
import { formatRate } from "../lib/format";

export type ExpressionCheck = Schemas["ExpressionCheckOut"];
export type Checker = (expression: string) => Promise<ExpressionCheck>;

const DEBOUNCE_MS = 300;

/** The position of an error in the text: the offset if given, else line and column. */
export function errorOffset(text: string, error: ExpressionCheck["error"]): number | null {
  if (!error) return null;
  if (error.offset !== undefined && error.offset !== null) return error.offset;
  if (error.line && error.column) {
    const lines = text.split("\n");
    const before = lines.slice(0, error.line - 1).reduce((n, line) => n + line.length + 1, 0);
    return before + error.column - 1;
  }
  return null;
}

/** The expression with the character at the error marked (or the end, past the text). */
export function ErrorPointer({ text, offset }: { text: string; offset: number }) {
  const at = Math.min(Math.max(offset, 0), text.length);
  const mark = text.slice(at, at + 1) || " ";
  return (
    <pre className="error-pointer" aria-hidden="true">
      {text.slice(0, at)}
      <mark>{mark}</mark>
      {text.slice(at + 1)}
    </pre>
  );
}

/** The current model on the group's training rows: its loss (the round's: a cost round's
 * mean cost), and on two-class rounds whom it gets wrong. */
function currentModel(result: ExpressionCheck): string {
  const rates = [
    result.train_false_positive_rate != null && `false positives ${formatRate(result.train_false_positive_rate, 1)}`,
    result.train_false_negative_rate != null && `false negatives ${formatRate(result.train_false_negative_rate, 1)}`,
  ].filter(Boolean);
  const loss = (result.train_loss ?? 0).toFixed(4);
  return `The current model there: mean loss ${loss}${rates.length ? `, ${rates.join(", ")}` : ""}.`;
}

/** What a check says, for people: valid with the group's size, or the error at its place. */
export function CheckResult({ text, result }: { text: string; result: ExpressionCheck }) {
  if (result.valid) {
    const share = result.train_share ?? 0;
    return (
      <p className="check ok" role="status">
        Valid: reads {(result.columns ?? []).join(", ") || "no feature"}; selects{" "}
        {(result.train_rows ?? 0).toLocaleString("en")} rows of the training split (
        {(share * 100).toFixed(1)}%).
        {result.train_loss != null && <> {currentModel(result)}</>}
      </p>
    );
  }
  const offset = errorOffset(text, result.error);
  return (
    <div className="check bad" role="alert">
      <p>{result.error?.message ?? "not a valid rule"}</p>
      {offset !== null && <ErrorPointer text={text} offset={offset} />}
      {offset !== null && <p className="hint">at character {offset + 1}</p>}
    </div>
  );
}

interface Props {
  value: string;
  onChange: (value: string) => void;
  check: Checker;
  onResult?: (result: ExpressionCheck | null) => void;
  label?: string;
}

/** A free-text group rule, validated against the round's schema as it is typed. */
export function ExpressionInput({ value, onChange, check, onResult, label = "Group rule" }: Props) {
  const id = useId();
  const [result, setResult] = useState<ExpressionCheck | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    if (!value.trim()) {
      setResult(null);
      onResult?.(null);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      check(value)
        .then((answer) => {
          if (!current) return;
          setResult(answer);
          setFailure(null);
          onResult?.(answer);
        })
        .catch((error: unknown) => {
          if (current) setFailure(error instanceof Error ? error.message : String(error));
        });
    }, DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [value, check, onResult]);

  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        rows={3}
        spellCheck={false}
        aria-describedby={`${id}-check`}
        aria-invalid={result ? !result.valid : undefined}
        placeholder='sex == "Female" and age >= 50'
      />
      <div id={`${id}-check`} aria-live="polite">
        {failure && <p className="check bad">The rule could not be checked: {failure}</p>}
        {result && result.expression === value && <CheckResult text={value} result={result} />}
      </div>
    </div>
  );
}
