import { describe, expect, it } from "vitest";

import {
  buildExpression,
  columnName,
  conditionText,
  numberLiteral,
  stringLiteral,
  type Feature,
  type RuleRow,
} from "./expression";

const FEATURES: Feature[] = [
  { name: "age", kind: "numeric", min: 17, max: 90, missing: 0 },
  { name: "sex", kind: "categorical", categories: ["Female", "Male"], missing: 0 },
  { name: "capital-gain", kind: "numeric", min: 0, max: 99999, missing: 0 },
  { name: "class", kind: "categorical", categories: ['say "hi"', "b\\c"], missing: 0 },
];

const row = (
  join: "and" | "or",
  feature: string,
  operator: RuleRow["condition"]["operator"],
  ...values: string[]
): RuleRow => ({ join, condition: { feature, operator, values } });

describe("names and constants", () => {
  it("quotes column names that are not plain identifiers or are keywords", () => {
    expect(columnName("age")).toBe("age");
    expect(columnName("capital-gain")).toBe("`capital-gain`");
    expect(columnName("class")).toBe("`class`");
    expect(columnName("_hidden")).toBe("`_hidden`");
  });

  it("escapes quotes and backslashes in strings", () => {
    expect(stringLiteral('say "hi"')).toBe('"say \\"hi\\""');
    expect(stringLiteral("b\\c")).toBe('"b\\\\c"');
  });

  it("accepts only finite numbers", () => {
    expect(numberLiteral(" 50 ")).toBe("50");
    expect(numberLiteral("-1.5")).toBe("-1.5");
    expect(numberLiteral("1e3")).toBe("1000");
    expect(numberLiteral("")).toBeNull();
    expect(numberLiteral("abc")).toBeNull();
    expect(numberLiteral("Infinity")).toBeNull();
  });
});

describe("conditions", () => {
  it("compares numbers without quotes and categories with quotes", () => {
    expect(conditionText({ feature: "age", operator: ">=", values: ["50"] }, FEATURES)).toBe(
      "age >= 50",
    );
    expect(conditionText({ feature: "sex", operator: "==", values: ["Female"] }, FEATURES)).toBe(
      'sex == "Female"',
    );
  });

  it("writes membership as a tuple, with a trailing comma for one item", () => {
    const one = { feature: "sex", operator: "in" as const, values: ["Male"] };
    const two = { feature: "class", operator: "not in" as const, values: ['say "hi"', "b\\c"] };
    expect(conditionText(one, FEATURES)).toBe('sex in ("Male",)');
    expect(conditionText(two, FEATURES)).toBe('`class` not in ("say \\"hi\\"", "b\\\\c")');
  });

  it("is incomplete without a value, with a bad number, or with a wrong operator", () => {
    expect(conditionText({ feature: "age", operator: ">", values: [] }, FEATURES)).toBeNull();
    expect(conditionText({ feature: "age", operator: ">", values: ["old"] }, FEATURES)).toBeNull();
    expect(conditionText({ feature: "sex", operator: "<", values: ["Male"] }, FEATURES)).toBeNull();
    expect(conditionText({ feature: "age", operator: "in", values: ["1"] }, FEATURES)).toBeNull();
    expect(conditionText({ feature: "nope", operator: "==", values: ["1"] }, FEATURES)).toBeNull();
  });
});

describe("rules from rows", () => {
  it("joins rows with and", () => {
    const rows = [row("and", "sex", "==", "Female"), row("and", "age", ">=", "50")];
    expect(buildExpression(rows, FEATURES)).toBe('sex == "Female" and age >= 50');
  });

  it("groups and-runs in parentheses around or, as the language binds them", () => {
    const rows = [
      row("and", "sex", "==", "Female"),
      row("and", "age", ">=", "50"),
      row("or", "capital-gain", ">", "0"),
    ];
    expect(buildExpression(rows, FEATURES)).toBe(
      '(sex == "Female" and age >= 50) or `capital-gain` > 0',
    );
  });

  it("is null while any row is incomplete, or with no rows", () => {
    expect(buildExpression([], FEATURES)).toBeNull();
    expect(buildExpression([row("and", "age", ">=")], FEATURES)).toBeNull();
  });
});
