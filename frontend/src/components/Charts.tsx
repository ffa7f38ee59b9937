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
