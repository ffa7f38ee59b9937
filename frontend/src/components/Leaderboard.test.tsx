import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { Schemas } from "../api/client";
import { Leaderboard } from "./Leaderboard";

let nextTeamId = 0;
const entry = (rank: number | null, team: string, improvement: number | null, accepted: number) => ({
  rank,
  team_id: ++nextTeamId,
  team,
  improvement,
  accepted,
  submissions: accepted + 2,
  last_improvement_at: null,
});

function board(entries: Schemas["LeaderboardEntry"][], resolution: number | null): Schemas["LeaderboardOut"] {
  return { round: "r", disclosure: "rounded", as_of: null, ranked_by: "improvement", resolution, entries };
}

describe("Leaderboard", () => {
  it("shows a positive improvement that rounds to 0 as below the resolution, and ties as ties", () => {
    render(<Leaderboard board={board([entry(1, "Ann", 0, 1), entry(1, "Bobs", 0, 1), entry(null, "Idle", 0, 0)], 0.02)} />);
    const [ann, bobs, idle] = screen.getAllByRole("row").slice(1) as [HTMLElement, HTMLElement, HTMLElement];
    expect([ann, bobs, idle].map((row) => within(row).getAllByRole("cell")[0]?.textContent)).toEqual(["1", "1", "—"]);
    expect(within(ann).getByText("< 0.02")).toBeTruthy();
    expect(within(idle).queryByText("< 0.02")).toBeNull(); // no accepted pair: a real 0
  });

  it("shows rounded figures as rounded when they are above the resolution", () => {
    render(<Leaderboard board={board([entry(1, "Ann", 0.04, 2)], 0.02)} />);
    expect(screen.getByText("≈ 0.04")).toBeTruthy();
  });
});
