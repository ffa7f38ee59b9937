import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { api, unwrap, type Schemas } from "../../api/client";
import { EmptyState, ProblemMessage } from "../../components/Problem";
import { formatNumber } from "../../lib/format";
import { PopulationFigures } from "./PopulationsPage";

type Report = Schemas["ClosingReport"];
type Interval = Schemas["Interval"] | null | undefined;

function formatInterval(interval: Interval, digits = 5): string {
  if (!interval) return "—";
  return `[${formatNumber(interval.low, digits)}, ${formatNumber(interval.high, digits)}]`;
}

export function ReportPage() {
  const { slug = "" } = useParams();
  const report = useQuery({
    queryKey: ["report", slug],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/rounds/{slug}/report", { params: { path: { slug } } })),
  });
  if (report.error) return <ProblemMessage error={report.error} />;
  if (!report.data) return <p>Computing the report (the model is replayed on the sealed test split)…</p>;
  const r = report.data;
  return (
    <article>
      <p>
        <Link to={`/rounds/${slug}/admin`}>← manage the round</Link>
      </p>
      <h1>Closing report</h1>
      <p>
        Round <span className={`badge ${r.status}`}>{r.status}</span>, final model version {r.head_version}.
        {r.status !== "closed" && " The round is not closed yet: these are the numbers so far."}
      </p>
      <Overall report={r} />
      <Teams report={r} />
      <Groups report={r} />
      <Versions report={r} />
      <Populations slug={slug} />
    </article>
  );
}

function Overall({ report }: { report: Report }) {
  const rows = [
    { split: "holdout (decided on)", ...report.holdout },
    { split: "test (sealed)", ...report.test },
  ];
  return (
    <section aria-labelledby="overall">
      <h2 id="overall">Base model vs final model</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">split</th>
            <th scope="col">base loss</th>
            <th scope="col">final loss</th>
            <th scope="col">improvement</th>
            <th scope="col">95% interval</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.split}>
              <th scope="row">{row.split}</th>
              <td className="num">{formatNumber(row.base)}</td>
              <td className="num">{formatNumber(row.final)}</td>
              <td className="num">{formatNumber(row.improvement)}</td>
              <td className="num">{formatInterval(row.improvement_interval)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p data-testid="overfitting-gap">
        Overfitting gap (holdout improvement minus test improvement):{" "}
        <strong>{formatNumber(report.overfitting_gap)}</strong>. Near zero means the accepted pairs
        generalize; large and positive means they fit the holdout more than the population.
      </p>
    </section>
  );
}

function Teams({ report }: { report: Report }) {
  if (report.teams.length === 0) return <EmptyState title="No team contributed an accepted pair" />;
  const data = report.teams.map((t) => ({
    team: t.team,
    holdout: t.holdout_improvement,
    test: t.test_improvement ?? undefined,
  }));
  return (
    <section aria-labelledby="teams">
      <h2 id="teams">Each team's contribution (private leaderboard)</h2>
      <div style={{ width: "100%", height: 260 }}>
        <ResponsiveContainer>
          <BarChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="team" />
            <YAxis width={64} tickFormatter={(v: number) => v.toFixed(3)} />
            <Tooltip formatter={(v) => (typeof v === "number" ? v.toFixed(5) : String(v))} />
            <Legend verticalAlign="top" />
            <Bar dataKey="holdout" name="on the holdout" fill="#1f5fa8" />
            <Bar dataKey="test" name="replayed on test" fill="#b35900" />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <table>
        <thead>
          <tr>
            <th scope="col">team</th>
            <th scope="col">accepted</th>
            <th scope="col">holdout improvement</th>
            <th scope="col">test improvement</th>
          </tr>
        </thead>
        <tbody>
          {report.teams.map((t) => (
            <tr key={t.team_id}>
              <th scope="row">{t.team}</th>
              <td className="num">{t.accepted}</td>
              <td className="num">{formatNumber(t.holdout_improvement, 5)}</td>
              <td className="num">{formatNumber(t.test_improvement, 5)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Groups({ report }: { report: Report }) {
  if (report.groups.length === 0) return null;
  return (
    <section aria-labelledby="groups">
      <h2 id="groups">Accepted groups: loss before and after</h2>
      <div className="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">team</th>
              <th scope="col">group</th>
              <th scope="col">holdout before → after</th>
              <th scope="col">test before → after</th>
              <th scope="col">holdout score</th>
              <th scope="col">test score [95%]</th>
            </tr>
          </thead>
          <tbody>
            {report.groups.map((g) => (
              <tr key={g.submission_id}>
                <td>{g.submission_id}</td>
                <td>{g.team}</td>
                <td>
                  <code>{g.group}</code>
                </td>
                <td className="num">
                  {formatNumber(g.holdout_before)} → {formatNumber(g.holdout_after)}
                </td>
                <td className="num">
                  {formatNumber(g.test_before)} → {formatNumber(g.test_after)}
                </td>
                <td className="num">{formatNumber(g.holdout_score, 5)}</td>
                <td className={g.worse_on_test ? "num warning" : "num"}>
                  {formatNumber(g.test_score, 5)} {formatInterval(g.test_score_interval)}
                  {g.worse_on_test && " worse on test"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Versions({ report }: { report: Report }) {
  if (report.versions.length === 0) return null;
  return (
    <section aria-labelledby="versions">
      <h2 id="versions">Every version: the change on the holdout next to the change on test</h2>
      <p className="hint">
        A change is the previous version's loss minus this one's (positive: better). The test split decided
        nothing, so its change, with its 95% interval, is what the version did for new people.
      </p>
      <div className="scroll">
        <table data-testid="version-changes">
          <thead>
            <tr>
              <th scope="col">version</th>
              <th scope="col">node</th>
              <th scope="col">submission</th>
              <th scope="col">holdout change</th>
              <th scope="col">test change</th>
              <th scope="col">test 95% interval</th>
            </tr>
          </thead>
          <tbody>
            {report.versions.map((v) => (
              <tr key={v.version}>
                <td>{v.version}</td>
                <td>{v.kind}</td>
                <td>{v.submission_id ?? "—"}</td>
                <td className="num">{formatNumber(v.holdout_change, 5)}</td>
                <td className="num">{formatNumber(v.test_change, 5)}</td>
                <td className={v.test_change_interval && v.test_change_interval.high < 0 ? "num warning" : "num"}>
                  {formatInterval(v.test_change_interval)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Every deployment population, with each version and group measured on it
 * (docs/populations.md): whether the round's fixes carry over to where the model is used. */
function Populations({ slug }: { slug: string }) {
  const populations = useQuery({
    queryKey: ["populations", slug],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/rounds/{slug}/populations", { params: { path: { slug } } })),
  });
  return (
    <section aria-labelledby="populations">
      <h2 id="populations">On the deployment populations</h2>
      <ProblemMessage error={populations.error} />
      {populations.data?.length === 0 && (
        <EmptyState title="No deployment populations">
          <p>
            <Link to={`/rounds/${slug}/populations`}>Add one</Link> to see whether the fixes hold where the model is used.
          </p>
        </EmptyState>
      )}
      {populations.data?.map((p) => <PopulationFigures key={p.id} slug={slug} id={p.id} level={3} />)}
    </section>
  );
}
