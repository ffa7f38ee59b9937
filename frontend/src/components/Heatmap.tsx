import type { Schemas } from "../api/client";

type FeatureUsage = Schemas["FeatureUsageOut"];

/** Which features each team's group rules read: a table shaded by count. */
export function FeatureHeatmap({ usage }: { usage: FeatureUsage }) {
  const max = Math.max(1, ...usage.teams.flatMap((t) => t.counts));
  const used = usage.features
    .map((name, i) => ({ name, i }))
    .filter(({ i }) => (usage.totals[i] ?? 0) > 0);
  if (usage.teams.length === 0 || used.length === 0) {
    return <p className="muted">No rule groups submitted yet.</p>;
  }
  return (
    <div className="scroll">
      <table className="heatmap">
        <caption>Rule groups per team that read each feature</caption>
        <thead>
          <tr>
            <th scope="col">team</th>
            {used.map(({ name }) => (
              <th key={name} scope="col">
                {name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {usage.teams.map((team) => (
            <tr key={team.team_id}>
              <th scope="row">{team.team}</th>
              {used.map(({ name, i }) => {
                const count = team.counts[i] ?? 0;
                const level = count / max;
                return (
                  <td
                    key={name}
                    style={{ background: `rgba(31, 95, 168, ${0.08 + 0.8 * level})`, color: level > 0.5 ? "#fff" : "#111" }}
                  >
                    {count}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
