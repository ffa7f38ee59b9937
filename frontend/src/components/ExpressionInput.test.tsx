import { act, render, screen } from "@testing-library/react";
import { useState } from "react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { CheckResult, errorOffset, ExpressionInput, type ExpressionCheck } from "./ExpressionInput";

type Cause = NonNullable<ExpressionCheck["error"]>;
const cause = (fields: Partial<Cause> & { message: string }): Cause => ({
  field: null,
  location: null,
  offset: null,
  line: null,
  column: null,
  ...fields,
});
const invalid = (expression: string, offset: number, message: string): ExpressionCheck => ({
  expression,
  valid: false,
  canonical: null,
  columns: [],
  train_rows: null,
  train_share: null,
  error: cause({ message, offset }),
});

describe("errorOffset", () => {
  it("uses the offset, else line and column", () => {
    expect(errorOffset("a\nbc", cause({ message: "x", offset: 2 }))).toBe(2);
    expect(errorOffset("a\nbc", cause({ message: "x", line: 2, column: 2 }))).toBe(3);
    expect(errorOffset("a", cause({ message: "x" }))).toBeNull();
  });
});

describe("CheckResult", () => {
  it("marks the character where the error is", () => {
    const text = "age >> 3";
    render(<CheckResult text={text} result={invalid(text, 5, "invalid syntax")} />);
    expect(screen.getByRole("alert")).toHaveTextContent("invalid syntax");
    expect(screen.getByText(">", { selector: "mark" })).toBeInTheDocument();
    expect(screen.getByText("at character 6")).toBeInTheDocument();
  });

  it("marks the end when the error is past the last character", () => {
    const text = "age >";
    const { container } = render(<CheckResult text={text} result={invalid(text, 5, "end")} />);
    expect(container.querySelector("mark")?.textContent).toBe(" ");
  });

  it("shows a valid rule's features and group size", () => {
    const text = "age >= 50";
    const result: ExpressionCheck = {
      expression: text,
      valid: true,
      canonical: text,
      columns: ["age"],
      train_rows: 1937,
      train_share: 0.0661,
      error: null,
    };
    render(<CheckResult text={text} result={result} />);
    expect(screen.getByRole("status")).toHaveTextContent(
      "Valid: reads age; selects 1,937 rows of the training split (6.6%).",
    );
    expect(screen.getByRole("status")).not.toHaveTextContent("current model");
  });

  it("says how the current model does on the group: its loss and whom it gets wrong", () => {
    const result: ExpressionCheck = {
      expression: "age >= 50",
      valid: true,
      columns: ["age"],
      train_rows: 1937,
      train_share: 0.0661,
      train_loss: 0.4213,
      train_false_positive_rate: 0.25,
      train_false_negative_rate: 0.0625,
    };
    render(<CheckResult text="age >= 50" result={result} />);
    expect(screen.getByRole("status")).toHaveTextContent(
      "The current model there: mean loss 0.4213, false positives 25.0%, false negatives 6.3%.",
    );
  });
});

describe("ExpressionInput", () => {
  beforeEach(() => vi.useFakeTimers({ shouldAdvanceTime: true }));
  afterEach(() => vi.useRealTimers());

  it("checks the text once typing pauses, and shows only the latest answer", async () => {
    const valid = (text: string): ExpressionCheck => ({
      expression: text,
      valid: true,
      canonical: text,
      columns: ["age"],
      train_rows: 3,
      train_share: 0.5,
      error: null,
    });
    const check = vi.fn(async (text: string) =>
      text.includes("agee") ? invalid(text, 0, "unknown feature 'agee'") : valid(text),
    );
    function Harness() {
      const [value, setValue] = useState("");
      return <ExpressionInput value={value} onChange={setValue} check={check} />;
    }
    render(<Harness />);
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    await user.type(screen.getByLabelText("Group rule"), "agee > 1");
    await act(async () => {
      vi.advanceTimersByTime(400);
    });
    expect(check).toHaveBeenCalledTimes(1); // debounced: one call for the whole word
    expect(await screen.findByRole("alert")).toHaveTextContent("unknown feature 'agee'");
    expect(screen.getByLabelText("Group rule")).toHaveAttribute("aria-invalid", "true");

    await user.clear(screen.getByLabelText("Group rule"));
    await user.type(screen.getByLabelText("Group rule"), "age > 1");
    await act(async () => {
      vi.advanceTimersByTime(400);
    });
    expect(await screen.findByRole("status")).toHaveTextContent("selects 3 rows");
  });
});
