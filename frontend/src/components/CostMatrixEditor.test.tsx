import { fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";

import { CostMatrixEditor, costsProblem, resized, zeroOneCosts } from "./CostMatrixEditor";

function Harness({ seen }: { seen: number[][][] }) {
  const [costs, setCosts] = useState(zeroOneCosts(2));
  return (
    <CostMatrixEditor
      costs={costs}
      onChange={(next) => {
        seen.push(next);
        setCosts(next);
      }}
    />
  );
}

describe("CostMatrixEditor", () => {
  it("edits one cost, naming the cell by truth and prediction", () => {
    const seen: number[][][] = [];
    render(<Harness seen={seen} />);
    const falsePositive = screen.getByLabelText(
      "cost of predicting second class (positive) when the truth is first class (negative)",
    );
    fireEvent.change(falsePositive, { target: { value: "3" } });
    expect(seen.at(-1)).toEqual([
      [0, 3],
      [1, 0],
    ]);
  });

  it("grows to more classes and keeps the costs already set", () => {
    const seen: number[][][] = [];
    render(<Harness seen={seen} />);
    const falseNegative = screen.getByLabelText(
      "cost of predicting first class (negative) when the truth is second class (positive)",
    );
    fireEvent.change(falseNegative, { target: { value: "5" } });
    fireEvent.change(screen.getByLabelText("Classes of the label"), { target: { value: "3" } });
    expect(seen.at(-1)).toEqual([
      [0, 1, 1],
      [5, 0, 1],
      [1, 1, 0],
    ]);
    expect(screen.getAllByRole("spinbutton")).toHaveLength(1 + 9);
  });

  it("refuses the matrices the server refuses", () => {
    expect(costsProblem([[0, 0], [0, 0]])).toMatch("must cost something");
    expect(costsProblem([[0, 1.5], [1, 0]])).toMatch("whole numbers");
    expect(costsProblem([[0, -1], [1, 0]])).toMatch("whole numbers");
    expect(costsProblem([[0, 3], [1, 0]])).toBeNull();
    expect(resized([[0, 3], [1, 0]], 2)).toEqual([[0, 3], [1, 0]]);
  });
});
