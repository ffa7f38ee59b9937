import { useEffect, type RefObject } from "react";

import { ApiError, messageOf, type ProblemCause } from "../api/client";

/** The input a cause is about: its field, or the last part of its location. */
export function fieldOf(cause: ProblemCause): string | null {
  if (cause.field) return cause.field;
  const last = (cause.location ?? []).at(-1);
  return last === undefined || last === "body" ? null : String(last);
}

/**
 * Point at the inputs an API error is about: ``aria-invalid`` on each input of ``form`` named by
 * a cause, and focus on the first, so the person sees (and hears) where to fix it.
 */
export function useInvalidFields(form: RefObject<HTMLFormElement | null>, error: unknown) {
  useEffect(() => {
    const element = form.current;
    if (!element) return;
    element.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
    if (!(error instanceof ApiError)) return;
    const inputs = (error.problem.errors ?? [])
      .map((cause) => fieldOf(cause))
      .map((name) => (name ? element.querySelector<HTMLElement>(`[name="${CSS.escape(name)}"]`) : null))
      .filter((input): input is HTMLElement => input !== null);
    inputs.forEach((input) => input.setAttribute("aria-invalid", "true"));
    inputs[0]?.focus();
  }, [form, error]);
}

/** An error from the API as a human message, announced to screen readers. */
export function ProblemMessage({ error, id }: { error: unknown; id?: string }) {
  if (!error) return null;
  const causes = error instanceof ApiError ? (error.problem.errors ?? []) : [];
  const extra = causes.filter((c) => c.message && c.message !== messageOf(error));
  return (
    <div className="problem" role="alert" id={id}>
      <strong>{messageOf(error)}</strong>
      {extra.length > 0 && (
        <ul>
          {extra.map((c, i) => (
            <li key={i}>
              {fieldOf(c) ? <code>{fieldOf(c)}</code> : null} {c.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

export function Progress({ value, max, label }: { value: number; max: number; label: string }) {
  const percent = max > 0 ? Math.round((100 * value) / max) : 0;
  return (
    <div className="progress">
      <progress value={value} max={max} aria-label={label} />
      <span>{percent}%</span>
    </div>
  );
}
