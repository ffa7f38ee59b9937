import type { Schemas } from "../api/client";
import { formatDate, formatNumber } from "../lib/format";
import { EmptyState } from "./Problem";

type Board = Schemas["LeaderboardOut"];

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
          Ranked by {board.ranked_by === "improvement" ? "credited improvement" : "accepted submissions"}
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
                {e.improvement === null || e.improvement === undefined ? "hidden" : formatNumber(e.improvement, digits)}
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
