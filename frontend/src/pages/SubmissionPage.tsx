import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { Link, useParams } from "react-router-dom";

import { api, unwrap, type Schemas } from "../api/client";
import { followSubmission } from "../api/events";
import { useAuth } from "../auth/AuthContext";
import { ProblemMessage } from "../components/Problem";
import { formatDate, formatNumber, formatRate } from "../lib/format";
import { useRound } from "./RoundPage";

type Submission = Schemas["SubmissionOut"];
type Stats = Schemas["SplitStatsOut"];

const STATUS_TEXT: Record<string, string> = {
  queued: "Queued: waiting for an evaluation worker",
  running: "Running: the pair is being evaluated on the holdout",
  evaluated: "Evaluated: waiting for its turn to be decided (first come, first served)",
  decided: "Decided",
};

/** Keep the cached submission current from its event stream until it is decided. */
export function useLiveSubmission(id: number) {
  const queries = useQueryClient();
  const query = useQuery({
    queryKey: ["submission", id],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/submissions/{submission_id}", {
          params: { path: { submission_id: id } },
        }),
      ),
  });
  const loaded = query.data !== undefined;
  const decided = query.data?.status === "decided";
  useEffect(() => {
    if (decided || !loaded) return;
    return followSubmission(id, (live) => {
      queries.setQueryData(["submission", id], live);
      if (live.status === "decided") {
        for (const key of ["leaderboard", "groups", "history", "feature-usage", "submissions", "quota"]) {
          void queries.invalidateQueries({ queryKey: [key, live.round] });
        }
      }
    });
  }, [id, decided, loaded, queries]);
  return query;
}

export function SubmissionPage() {
  const { id = "" } = useParams();
  const submission = useLiveSubmission(Number(id));
  if (submission.error) return <ProblemMessage error={submission.error} />;
  if (!submission.data) return <p>Loading…</p>;
  const s = submission.data;
  return (
    <article>
      <p>
        <Link to={`/rounds/${s.round}`}>← {s.round}</Link> ·{" "}
        <Link to={`/rounds/${s.round}/submissions`}>your team's submissions</Link>
      </p>
      <h1>Submission {s.id}</h1>
      <p className="group">
        Group:{" "}
        {s.group_kind === "rule" ? <code>{s.group_expression}</code> : "a group model"}
        {s.note && <span className="muted"> — {s.note}</span>}
      </p>
      <StatusLine submission={s} />
      {s.verdict && <Verdict submission={s} />}
    </article>
  );
}

export function StatusLine({ submission }: { submission: Submission }) {
  const s = submission;
  return (
    <p className={`status ${s.status}`} role="status" aria-live="polite" data-testid="status">
      {s.verdict ? (
        <>
          <span className={`badge ${s.verdict.outcome}`}>{s.verdict.outcome}</span>{" "}
          {s.verdict.message}
        </>
      ) : (
        (STATUS_TEXT[s.status] ?? s.status) + "…"
      )}
    </p>
  );
}

interface StatsProps {
  train?: Stats | null;
  holdout?: Stats | null;
  /** Decimals of the holdout numbers, or "rounded" when the round rounds them for disclosure. */
  holdoutDigits: number | "rounded";
}

function rateDigits(digits: number | "rounded"): number | "rounded" {
  return digits === "rounded" ? digits : Math.max(digits - 2, 1);
}

function StatsTable({ train, holdout, holdoutDigits }: StatsProps) {
  const rows: [string, (s: Stats, digits: number | "rounded") => string][] = [
    [
      "rows in the group",
      (s, d) => (d === "rounded" ? formatNumber(s.n_group, d) : s.n_group.toLocaleString("en")),
    ],
    ["group loss before", (s, d) => formatNumber(s.group_loss_before, d)],
    ["group loss with h", (s, d) => formatNumber(s.group_loss_after, d)],
    ["score (loss reduction on the split)", (s, d) => formatNumber(s.score, d)],
  ];
  const rates: typeof rows = [
    ["false-positive rate before", (s, d) => formatRate(s.false_positive_rate_before, rateDigits(d))],
    ["false-positive rate with h", (s, d) => formatRate(s.false_positive_rate_after, rateDigits(d))],
    ["false-negative rate before", (s, d) => formatRate(s.false_negative_rate_before, rateDigits(d))],
    ["false-negative rate with h", (s, d) => formatRate(s.false_negative_rate_after, rateDigits(d))],
  ];
  // Two-class rounds: the train split always has them when the round has a positive class.
  if (train?.false_positive_rate_before != null || train?.false_negative_rate_before != null) {
    rows.push(...rates);
  }
  return (
    <table>
      <caption>The pair's statistics</caption>
      <thead>
        <tr>
          <th scope="col"></th>
          <th scope="col">train split (public)</th>
          <th scope="col">holdout</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([label, show]) => (
          <tr key={label}>
            <th scope="row">{label}</th>
            <td className="num">{train ? show(train, 6) : "—"}</td>
            <td className="num">{holdout ? show(holdout, holdoutDigits) : "not disclosed"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Verdict({ submission }: { submission: Submission }) {
  const v = submission.verdict!;
  const round = useRound(submission.round);
  const { user } = useAuth();
  const exact = round.data?.rules.disclosure === "exact" || user?.id === round.data?.organizer_id;
  const holdoutDigits = exact ? 8 : "rounded";
  return (
    <section aria-labelledby="verdict">
      <h2 id="verdict">Verdict</h2>
      <dl className="facts">
        <dt>Outcome</dt>
        <dd>{v.outcome}</dd>
        <dt>Reason</dt>
        <dd>{v.reason.replaceAll("_", " ")}</dd>
        <dt>Decided</dt>
        <dd>{formatDate(submission.decided_at)}</dd>
        {v.version !== null && v.version !== undefined && (
          <>
            <dt>Model version</dt>
            <dd>{v.version}</dd>
          </>
        )}
      </dl>
      {(v.train || v.holdout) && (
        <StatsTable train={v.train} holdout={v.holdout} holdoutDigits={holdoutDigits} />
      )}
      {(v.repairs ?? []).length > 0 && (
        <>
          <h3>Repairs it caused</h3>
          <p>
            Accepting this pair made earlier groups worse, so the model gave them back their best
            earlier predictions:
          </p>
          <ul>
            {(v.repairs ?? []).map((r) => (
              <li key={r.version}>
                version {r.version}: the group of submission {r.submission_id} goes back to version{" "}
                {r.target_version}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
