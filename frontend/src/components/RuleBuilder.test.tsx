import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import type { Feature } from "../lib/expression";
import { RuleBuilder } from "./RuleBuilder";

const FEATURES: Feature[] = [
  { name: "sex", kind: "categorical", categories: ["Female", "Male"], missing: 0 },
  { name: "age", kind: "numeric", min: 17, max: 90, missing: 0 },
  { name: "race", kind: "categorical", categories: ["Asian", "Black", "White"], missing: 0 },
];

function setup() {
  const onChange = vi.fn();
  render(<RuleBuilder features={FEATURES} onChange={onChange} />);
  return { onChange, user: userEvent.setup(), text: () => screen.getByLabelText("Rule text") };
}

describe("RuleBuilder", () => {
  it("starts with the first feature's first category and shows the rule", () => {
    const { onChange, text } = setup();
    expect(text()).toHaveTextContent('sex == "Female"');
    expect(onChange).toHaveBeenLastCalledWith('sex == "Female"');
  });

  it("offers the categories of a categorical feature and numeric operators for numbers", async () => {
    const { user } = setup();
    const values = screen.getByLabelText("Value of condition 1");
    expect(within(values).getAllByRole("option").map((o) => o.textContent)).toEqual([
      "Female",
      "Male",
    ]);
    await user.selectOptions(screen.getByLabelText("Feature of condition 1"), "age");
    const operators = screen.getByLabelText("Operator of condition 1");
    expect(within(operators).getAllByRole("option").map((o) => o.textContent)).toEqual([
      "is",
      "is not",
      "<",
      "≤",
      ">",
      "≥",
    ]);
  });

  it("writes and/or joined rows as one rule, and reports incomplete rows as null", async () => {
    const { onChange, text, user } = setup();
    await user.click(screen.getByRole("button", { name: "Add a condition" }));
    await user.selectOptions(screen.getByLabelText("Feature of condition 2"), "age");
    expect(onChange).toHaveBeenLastCalledWith(null); // no age yet
    expect(text()).toHaveTextContent("complete every condition");
    await user.type(screen.getByLabelText("Value of condition 2"), "50");
    expect(text()).toHaveTextContent('sex == "Female" and age >= 50');

    await user.click(screen.getByRole("button", { name: "Add a condition" }));
    await user.selectOptions(screen.getByLabelText("Join condition 3"), "or");
    await user.selectOptions(screen.getByLabelText("Feature of condition 3"), "race");
    await user.selectOptions(screen.getByLabelText("Operator of condition 3"), "in");
    await user.selectOptions(screen.getByLabelText("Value of condition 3"), ["Asian", "Black"]);
    expect(onChange).toHaveBeenLastCalledWith(
      '(sex == "Female" and age >= 50) or race in ("Asian", "Black")',
    );
  });

  it("removes a condition", async () => {
    const { text, user } = setup();
    await user.click(screen.getByRole("button", { name: "Add a condition" }));
    await user.selectOptions(screen.getByLabelText("Feature of condition 2"), "race");
    await user.click(screen.getByRole("button", { name: "Remove condition 1" }));
    expect(text()).toHaveTextContent('race == "Asian"');
  });
});
