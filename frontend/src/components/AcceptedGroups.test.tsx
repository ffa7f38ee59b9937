import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { Schemas } from "../api/client";
import { AcceptedGroups } from "./AcceptedGroups";

type Group = Schemas["AcceptedGroupOut"];

const group = (id: number, rates: Partial<Group>): Group => ({
  submission_id: id,
  team_id: 1,
  team: "Ann",
  group: `x${id} > 0`,
  group_kind: "rule",
  n_group: 400,
  group_loss_before: 0.25,
  group_loss_after: 0.2,
  score: 0.01,
  version: id,
  repairs: [],
  decided_at: null,
  ...rates,
});

function groups(list: Group[], disclosure: Schemas["Disclosure"]): Schemas["GroupsOut"] {
  return { round: "r", disclosure, as_of: null, groups: list };
}

describe("AcceptedGroups", () => {
  it("shows each group's false-positive and false-negative rates before and with its patch", () => {
    const rates = {
      false_positive_rate_before: 0.1,
      false_positive_rate_after: 0.125,
      false_negative_rate_before: 0.5,
      false_negative_rate_after: 0.25,
    };
    render(<AcceptedGroups groups={groups([group(1, rates)], "exact")} />);
    const [header, row] = screen.getAllByRole("row") as [HTMLElement, HTMLElement];
    expect(within(header).getByText("false-positive rate")).toBeTruthy();
    expect(within(row).getByText("10.0% → 12.5%")).toBeTruthy();
    expect(within(row).getByText("50.0% → 25.0%")).toBeTruthy();
    expect(within(row).getByText("0.2500 → 0.2000")).toBeTruthy();
  });

  it("marks rounded figures as rounded", () => {
    const rates = { false_positive_rate_before: 0.1, false_positive_rate_after: 0.05 };
    render(<AcceptedGroups groups={groups([group(1, rates)], "rounded")} />);
    expect(screen.getByText("≈ 10% → ≈ 5%")).toBeTruthy();
    expect(screen.getByText("≈ 400")).toBeTruthy();
  });

  it("has no rate columns on rounds without them (regression, many classes, none disclosed)", () => {
    render(<AcceptedGroups groups={groups([group(1, {})], "exact")} />);
    expect(screen.queryByText("false-positive rate")).toBeNull();
    expect(screen.getByText("x1 > 0")).toBeTruthy();
  });

  it("says so when nothing has been accepted yet", () => {
    render(<AcceptedGroups groups={groups([], "rounded")} />);
    expect(screen.getByText("No accepted groups yet")).toBeTruthy();
  });
});
