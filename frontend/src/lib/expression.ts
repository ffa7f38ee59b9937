// Build group rules (the platform's expression language) from rule-builder rows.
// The server parses and checks every rule; this only writes text that it will understand.

import type { components } from "../api/schema";

export type Feature = components["schemas"]["Feature"];

export type Operator = "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in";

export const NUMERIC_OPERATORS: Operator[] = ["==", "!=", "<", "<=", ">", ">="];
export const CATEGORICAL_OPERATORS: Operator[] = ["==", "!=", "in", "not in"];

export interface Condition {
  feature: string;
  operator: Operator;
  /** One value; for "in" and "not in", any number of categories. */
  values: string[];
}

export interface RuleRow {
  /** How this row joins the rows before it (ignored on the first row). */
  join: "and" | "or";
  condition: Condition;
}

const PYTHON_KEYWORDS = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except " +
    "finally for from global if import in is lambda nonlocal not or pass raise return try " +
    "while with yield match case type"
  ).split(" "),
);

/** A column name as the language wants it: bare if it is a plain identifier, else `quoted`. */
export function columnName(name: string): string {
  const plain = /^[A-Za-z][A-Za-z0-9_]*$/.test(name) && !PYTHON_KEYWORDS.has(name);
  return plain ? name : "`" + name.replaceAll("`", "") + "`";
}

/** A string constant in double quotes, with backslashes and quotes escaped. */
export function stringLiteral(value: string): string {
  return '"' + value.replaceAll("\\", "\\\\").replaceAll('"', '\\"') + '"';
}

/** A number as the language reads it, or null if the text is not a finite number. */
export function numberLiteral(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed === "" || !Number.isFinite(Number(trimmed))) return null;
  return String(Number(trimmed));
}

export function operatorsFor(feature: Feature | undefined): Operator[] {
  return feature?.kind === "categorical" ? CATEGORICAL_OPERATORS : NUMERIC_OPERATORS;
}

/** The text of one condition, or null while it is incomplete or its value is not valid. */
export function conditionText(condition: Condition, features: Feature[]): string | null {
  const feature = features.find((f) => f.name === condition.feature);
  if (!feature || !operatorsFor(feature).includes(condition.operator)) return null;
  const column = columnName(feature.name);
  if (condition.operator === "in" || condition.operator === "not in") {
    if (condition.values.length === 0) return null;
    const items = condition.values.map(stringLiteral).join(", ");
    return `${column} ${condition.operator} (${items}${condition.values.length === 1 ? "," : ""})`;
  }
  const [value] = condition.values;
  if (value === undefined) return null;
  const literal = feature.kind === "categorical" ? stringLiteral(value) : numberLiteral(value);
  return literal === null ? null : `${column} ${condition.operator} ${literal}`;
}

/**
 * The rule for the rows, "and" binding tighter than "or" as in the language itself:
 * rows a AND b OR c read as (a and b) or c. Null if any row is incomplete.
 */
export function buildExpression(rows: RuleRow[], features: Feature[]): string | null {
  if (rows.length === 0) return null;
  const terms: string[][] = [[]];
  for (const [i, row] of rows.entries()) {
    const text = conditionText(row.condition, features);
    if (text === null) return null;
    if (i > 0 && row.join === "or") terms.push([]);
    terms[terms.length - 1]!.push(text);
  }
  const parts = terms.map((group) => group.join(" and "));
  return parts.length === 1
    ? parts[0]!
    : parts.map((p, i) => (terms[i]!.length > 1 ? `(${p})` : p)).join(" or ");
}

/** A new row for the feature: its first operator and, for categories, its first category. */
export function newCondition(feature: Feature): Condition {
  const categorical = feature.kind === "categorical";
  const first = feature.categories?.[0];
  return {
    feature: feature.name,
    operator: categorical ? "==" : ">=",
    values: categorical && first !== undefined ? [first] : [],
  };
}
