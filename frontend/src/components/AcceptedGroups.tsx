import type { Schemas } from "../api/client";
import { formatNumber, formatRate } from "../lib/format";
import { EmptyState } from "./Problem";

type Groups = Schemas["GroupsOut"];
type Group = Schemas["AcceptedGroupOut"];

function change(before: string, after: string): string {
  return before === "—" && after === "—" ? "—" : `${before} → ${after}`;
}

interface RateProps {
  before: number | null | undefined;
  after: number | null | undefined;
  digits: number | "rounded";
}

/** A table cell with a rate before and after a change ("12.5% → 8.0%"). */
export function RateChange({ before, after, digits }: RateProps) {
  return <td className="num">{change(formatRate(before, digits), formatRate(after, digits))}</td>;
}

/** Whether the round's groups carry false-positive and false-negative rates (two-class rounds
 * whose disclosure shows holdout figures). */
function hasRates(groups: Group[]): boolean {
  return groups.some(
    (g) =>
      g.false_positive_rate_before != null ||
      g.false_positive_rate_after != null ||
      g.false_negative_rate_before != null ||
      g.false_negative_rate_after != null,
  );
}

/** The accepted groups: each group's holdout loss, and on two-class rounds its false-positive
 * and false-negative rates, before its patch and with it. */
export function AcceptedGroups({ groups }: { groups: Groups }) {
  if (groups.groups.length === 0) {
    return (
      <EmptyState title="No accepted groups yet">
        <p>Each accepted pair appears here with what it changed for its group.</p>
      </EmptyState>
    );
  }
  const exact = groups.disclosure === "exact";
  const digits = exact ? 4 : "rounded";
  const rateDigits = exact ? 1 : "rounded";
  const rates = hasRates(groups.groups);
  return (
    <div className="scroll">
      <table className="groups" data-testid="accepted-groups">
        <caption>
          On the holdout, before each pair and with its patch
          {groups.disclosure === "none" ? " (this round does not disclose holdout figures)" : ""}
        </caption>
        <thead>
          <tr>
            <th scope="col">group</th>
            <th scope="col">team</th>
            <th scope="col">rows</th>
            <th scope="col">group loss</th>
            {rates && <th scope="col">false-positive rate</th>}
            {rates && <th scope="col">false-negative rate</th>}
            <th scope="col">version</th>
          </tr>
        </thead>
        <tbody>
          {groups.groups.map((g) => (
            <tr key={g.submission_id}>
              <th scope="row">
                <code>{g.group}</code>
              </th>
              <td>{g.team}</td>
              <td className="num">{g.n_group === null || g.n_group === undefined ? "—" : exact ? g.n_group : `≈ ${g.n_group}`}</td>
              <td className="num">
                {change(formatNumber(g.group_loss_before, digits), formatNumber(g.group_loss_after, digits))}
              </td>
              {rates && <RateChange before={g.false_positive_rate_before} after={g.false_positive_rate_after} digits={rateDigits} />}
              {rates && <RateChange before={g.false_negative_rate_before} after={g.false_negative_rate_after} digits={rateDigits} />}
              <td className="num">{g.version ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
