import { render, screen } from "@testing-library/react";
import { useRef } from "react";
import { describe, expect, it } from "vitest";

import { ApiError, fallbackProblem } from "../api/client";
import { fieldOf, ProblemMessage, useInvalidFields } from "./Problem";

const cause = (message: string, field: string | null, location: (string | number)[] | null) => ({
  message,
  field,
  location,
  offset: null,
  line: null,
  column: null,
});

function validationError() {
  const problem = {
    ...fallbackProblem(422, "the request is not valid"),
    errors: [
      cause("String should have at least 1 character", null, ["body", "title"]),
      cause("Input should be greater than or equal to 0", null, ["body", "alpha"]),
    ],
  };
  return new ApiError(422, problem);
}

function Form({ error }: { error: unknown }) {
  const form = useRef<HTMLFormElement>(null);
  useInvalidFields(form, error);
  return (
    <form ref={form}>
      <label htmlFor="t">Title</label>
      <input id="t" name="title" />
      <label htmlFor="a">Alpha</label>
      <input id="a" name="alpha" />
      <label htmlFor="q">Quota</label>
      <input id="q" name="daily_quota" />
      <ProblemMessage error={error} />
    </form>
  );
}

describe("problem details in forms", () => {
  it("names the field from the cause's location", () => {
    expect(fieldOf(cause("x", null, ["body", "title"]))).toBe("title");
    expect(fieldOf(cause("x", "model", null))).toBe("model");
    expect(fieldOf(cause("x", null, ["body"]))).toBeNull();
  });

  it("marks the inputs in error, focuses the first, and lists every cause", () => {
    render(<Form error={validationError()} />);
    expect(screen.getByLabelText("Title")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByLabelText("Alpha")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByLabelText("Quota")).not.toHaveAttribute("aria-invalid");
    expect(screen.getByLabelText("Title")).toHaveFocus();
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("the request is not valid");
    expect(alert).toHaveTextContent("title String should have at least 1 character");
  });

  it("clears the marks when the error is gone", () => {
    const { rerender } = render(<Form error={validationError()} />);
    rerender(<Form error={null} />);
    expect(screen.getByLabelText("Title")).not.toHaveAttribute("aria-invalid");
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
