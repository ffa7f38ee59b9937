import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

import type { Schemas } from "../api/client";

type HistoryPoint = Schemas["HistoryPoint"];
type FeatureUsage = Schemas["FeatureUsageOut"];

/** The model's loss after each version: holdout (as disclosed) and train. */
export function LossChart({ versions }: { versions: HistoryPoint[] }) {
  const data = versions.map((v) => ({
    version: v.version,
    holdout: v.holdout_loss ?? undefined,
    train: v.train_loss,
  }));
  const hasHoldout = data.some((d) => d.holdout !== undefined);
  return (
    <figure className="chart">
      <div style={{ width: "100%", height: 260 }}>
        <ResponsiveContainer>
          <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="version" label={{ value: "model version", position: "insideBottom", offset: -4 }} />
            <YAxis domain={["auto", "auto"]} width={64} tickFormatter={(v: number) => v.toFixed(3)} />
            <Tooltip formatter={(v) => (typeof v === "number" ? v.toFixed(4) : String(v))} />
            <Legend verticalAlign="top" />
            {hasHoldout && (
              <Line type="stepAfter" dataKey="holdout" name="holdout loss" stroke="#1f5fa8" strokeWidth={2} />
            )}
            <Line type="stepAfter" dataKey="train" name="train loss" stroke="#b35900" strokeDasharray="5 3" />
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption>
        Loss of the model after each accepted submission
        {hasHoldout ? "" : " (this round does not disclose holdout numbers; train loss shown)"}.
      </figcaption>
      <div className="sr-only">
      <table>
        <caption>Loss by model version</caption>
        <thead>
          <tr>
            <th>version</th>
            <th>holdout</th>
            <th>train</th>
          </tr>
        </thead>
        <tbody>
          {data.map((d) => (
            <tr key={d.version}>
              <td>{d.version}</td>
              <td>{d.holdout ?? "—"}</td>
              <td>{d.train}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </figure>
  );
}

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
