import type { Schemas } from "../api/client";
import { formatDate, formatNumber } from "../lib/format";
import { EmptyState } from "./Problem";

type Board = Schemas["LeaderboardOut"];
type Entry = Schemas["LeaderboardEntry"];

/** A team's improvement as shown: hidden, a figure, or, when it rounds to 0 although the team
 * has accepted pairs, "below" the holdout's resolution (it is positive, not zero). */
export function improvementText(e: Entry, resolution: number | null, digits: number | "rounded"): string {
  if (e.improvement === null || e.improvement === undefined) return "hidden";
  if (e.improvement === 0 && e.accepted > 0 && resolution !== null) {
    return `< ${resolution.toLocaleString("en", { maximumFractionDigits: 12 })}`;
  }
  return formatNumber(e.improvement, digits);
}

export function Leaderboard({ board }: { board: Board }) {
  if (board.entries.length === 0) {
    return (
      <EmptyState title="No teams yet">
        <p>Create a team to enter the round; it appears here.</p>
      </EmptyState>
    );
  }
  const digits = board.disclosure === "exact" ? 6 : "rounded";
  return (
    <div className="scroll">
      <table className="leaderboard">
        <caption>
          Ranked by{" "}
          {board.ranked_by === "improvement" ? "credited improvement as shown, then accepted pairs" : "accepted submissions"}
          ; equal teams share a rank
          {board.as_of ? `, frozen at ${formatDate(board.as_of)}` : ""}
        </caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">team</th>
            <th scope="col">improvement</th>
            <th scope="col">accepted / submitted</th>
            <th scope="col">last improvement</th>
          </tr>
        </thead>
        <tbody>
          {board.entries.map((e) => (
            <tr key={e.team_id}>
              <td>{e.rank ?? "—"}</td>
              <th scope="row">{e.team}</th>
              <td className="num">
                {improvementText(e, board.resolution ?? null, digits)}
              </td>
              <td className="num">
                {e.accepted} / {e.submissions}
              </td>
              <td>{formatDate(e.last_improvement_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
