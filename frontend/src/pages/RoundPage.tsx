import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useState, type FormEvent } from "react";
import Markdown from "react-markdown";
import { Link, useParams } from "react-router-dom";

import { api, ApiError, unwrap, type Schemas } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { AcceptedGroups } from "../components/AcceptedGroups";
import { FeatureHeatmap } from "../components/Heatmap";
import { SignInFirst } from "../components/Layout";
import { Leaderboard } from "../components/Leaderboard";
import { ProblemMessage } from "../components/Problem";
import { formatDate } from "../lib/format";

type Round = Schemas["RoundOut"];

// The charting library is the largest part of the app: loaded when a chart is first shown.
const LossChart = lazy(async () => ({ default: (await import("../components/Charts")).LossChart }));

const DISCLOSURE: Record<string, string> = {
  exact: "exact holdout numbers (classroom mode)",
  rounded: "holdout numbers of accepted submissions, rounded to their sampling error; one reason for every rejection",
  none: "no holdout numbers; verdicts only",
};

export function useRound(slug: string) {
  return useQuery({
    queryKey: ["round", slug],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/rounds/{slug}", { params: { path: { slug } } })),
  });
}

export function RoundPage() {
  const { slug = "" } = useParams();
  const round = useRound(slug);
  if (round.error) return <ProblemMessage error={round.error} />;
  if (!round.data) return <p>Loading the round…</p>;
  const r = round.data;
  return (
    <article className="round">
      <header>
        <h1>{r.title}</h1>
        <p>
          <span className={`badge ${r.status}`}>{r.status}</span> opens {formatDate(r.opens_at)} ·
          closes {formatDate(r.closes_at)}
        </p>
      </header>
      <TeamPanel round={r} />
      <DeployerLink round={r} />
      <div className="columns">
        <section aria-labelledby="about">
          <h2 id="about">About this round</h2>
          <div className="markdown">
            {/* react-markdown renders no raw HTML: descriptions cannot inject markup */}
            <Markdown>{r.description || "_No description._"}</Markdown>
          </div>
          <Rules round={r} />
          <Data round={r} />
        </section>
        <section aria-labelledby="standings">
          <h2 id="standings">Leaderboard</h2>
          <Standings slug={slug} />
        </section>
      </div>
      <GroupTable slug={slug} />
      <Insight slug={slug} />
      <FeatureTable slug={slug} />
    </article>
  );
}

const LOSS: Record<string, string> = {
  zero_one: "0-1 error",
  cost: "cost-weighted error",
  squared: "squared error",
  absolute: "absolute error",
};

function Rules({ round }: { round: Round }) {
  const rules = round.rules;
  return (
    <>
      <h3>Rules</h3>
      <p className="notice" data-testid="acceptance-guarantee">
        <strong>{round.acceptance.guarantee}</strong> {round.acceptance.details}
      </p>
      <dl className="facts">
        <dt>Loss</dt>
        <dd>
          {LOSS[rules.loss] ?? rules.loss}
          {round.costs_explained && (
            <span className="muted" data-testid="costs-explained">
              {" "}
              — {round.costs_explained}
            </span>
          )}
        </dd>
        <dt>Alpha</dt>
        <dd>
          {rules.alpha}
          {round.alpha_meaning && <span className="muted"> — {round.alpha_meaning.summary}</span>}
        </dd>
        <dt>Minimum group size</dt>
        <dd>{rules.min_group_rows} holdout rows</dd>
        <dt>Submissions per team per day</dt>
        <dd>{rules.daily_quota} (every stored submission counts, invalid ones too)</dd>
        <dt>Team size</dt>
        <dd>up to {rules.max_team_size}</dd>
        <dt>What verdicts disclose</dt>
        <dd>{DISCLOSURE[rules.disclosure] ?? rules.disclosure}</dd>
      </dl>
    </>
  );
}

function Data({ round }: { round: Round }) {
  const schema = useQuery({
    queryKey: ["schema", round.slug],
    enabled: round.data !== null,
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/rounds/{slug}/schema", { params: { path: { slug: round.slug } } }),
      ),
  });
  if (!round.data) return <p className="muted">The organizer has not uploaded data yet.</p>;
  return (
    <>
      <h3>Data</h3>
      <p>
        Training split: {round.data.n_train.toLocaleString("en")} rows (the holdout,{" "}
        {round.data.n_holdout.toLocaleString("en")} rows, stays hidden). Download:{" "}
        <a href={`/api/v1/rounds/${round.slug}/data/train.csv`} download>
          CSV
        </a>{" "}
        ·{" "}
        <a href={`/api/v1/rounds/${round.slug}/data/train.parquet`} download>
          Parquet
        </a>
      </p>
      <ProblemMessage error={schema.error} />
      {schema.data && (
        <div className="scroll">
          <table>
            <caption>
              Features (label: <code>{schema.data.label.name}</code>)
            </caption>
            <thead>
              <tr>
                <th scope="col">feature</th>
                <th scope="col">kind</th>
                <th scope="col">values</th>
              </tr>
            </thead>
            <tbody>
              {schema.data.features.map((f) => (
                <tr key={f.name}>
                  <th scope="row">
                    <code>{f.name}</code>
                  </th>
                  <td>{f.kind}</td>
                  <td>
                    {f.kind === "categorical" ? (
                      <Categories values={f.categories ?? []} />
                    ) : (
                      `${f.min ?? "?"} to ${f.max ?? "?"}`
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

const SHOWN_CATEGORIES = 6;

/** A feature's categories: the first few, the rest behind a disclosure. */
function Categories({ values }: { values: string[] }) {
  if (values.length <= SHOWN_CATEGORIES + 2) return <>{values.join(", ")}</>;
  return (
    <details>
      <summary>
        {values.slice(0, SHOWN_CATEGORIES).join(", ")} and {values.length - SHOWN_CATEGORIES} more
      </summary>
      {values.slice(SHOWN_CATEGORIES).join(", ")}
    </details>
  );
}

function Standings({ slug }: { slug: string }) {
  const board = useQuery({
    queryKey: ["leaderboard", slug],
    refetchInterval: 10_000,
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/rounds/{slug}/leaderboard", { params: { path: { slug } } })),
  });
  if (board.error) return <ProblemMessage error={board.error} />;
  return board.data ? <Leaderboard board={board.data} /> : <p>Loading…</p>;
}

function GroupTable({ slug }: { slug: string }) {
  const groups = useQuery({
    queryKey: ["groups", slug],
    refetchInterval: 10_000,
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/rounds/{slug}/groups", { params: { path: { slug } } })),
  });
  return (
    <section aria-labelledby="groups">
      <h2 id="groups">Accepted groups</h2>
      <ProblemMessage error={groups.error} />
      {groups.data && <AcceptedGroups groups={groups.data} />}
    </section>
  );
}

function Insight({ slug }: { slug: string }) {
  const history = useQuery({
    queryKey: ["history", slug],
    refetchInterval: 10_000,
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/rounds/{slug}/history", { params: { path: { slug } } })),
  });
  return (
    <section aria-labelledby="history">
      <h2 id="history">The model over time</h2>
      <ProblemMessage error={history.error} />
      {history.data && (
        <Suspense fallback={<p>Loading the chart…</p>}>
          <LossChart versions={history.data.versions} />
        </Suspense>
      )}
    </section>
  );
}

function FeatureTable({ slug }: { slug: string }) {
  const usage = useQuery({
    queryKey: ["feature-usage", slug],
    refetchInterval: 10_000,
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/rounds/{slug}/feature-usage", { params: { path: { slug } } }),
      ),
  });
  return (
    <section aria-labelledby="features">
      <h2 id="features">Where teams look</h2>
      <ProblemMessage error={usage.error} />
      {usage.data && <FeatureHeatmap usage={usage.data} />}
    </section>
  );
}

/** A link to the round's deployment populations for a deployer the organizer named (the
 * organizer reaches them from the round's admin page). */
function DeployerLink({ round }: { round: Round }) {
  const { user } = useAuth();
  const mayAdd = useQuery({
    queryKey: ["populations", round.slug, "access", user?.id],
    enabled: user !== null && user.id !== round.organizer_id && round.status !== "draft",
    retry: false,
    queryFn: async () => {
      const answer = await api.GET("/api/v1/rounds/{slug}/populations", {
        params: { path: { slug: round.slug } },
      });
      return answer.response.ok;
    },
  });
  if (!mayAdd.data) return null;
  return (
    <p className="notice">
      You deploy this model: <Link to={`/rounds/${round.slug}/populations`}>add and follow your populations</Link>.
    </p>
  );
}

/** The caller's team in this round, or the ways to get one. */
function TeamPanel({ round }: { round: Round }) {
  const { user } = useAuth();
  const queries = useQueryClient();
  const team = useQuery({
    queryKey: ["my-team", round.slug, user?.id],
    enabled: user !== null,
    queryFn: async () => {
      const answer = await api.GET("/api/v1/rounds/{slug}/my-team", {
        params: { path: { slug: round.slug } },
      });
      return answer.response.status === 404 ? null : unwrap(answer);
    },
  });
  const refresh = () => {
    void queries.invalidateQueries({ queryKey: ["my-team", round.slug] });
    void queries.invalidateQueries({ queryKey: ["leaderboard", round.slug] });
  };

  if (!user) return <SignInFirst what="enter this round" />;
  if (user.role === "organizer" && user.id === round.organizer_id) {
    return (
      <p className="notice">
        You organize this round: <Link to={`/rounds/${round.slug}/admin`}>manage it</Link>.
      </p>
    );
  }
  if (team.isLoading) return null;
  if (team.data) {
    return (
      <section className="team" aria-labelledby="team">
        <h2 id="team">Your team: {team.data.name}</h2>
        <p>
          Invite code <code data-testid="invite-code">{team.data.invite_code}</code> (give it to
          teammates; up to {team.data.max_team_size} members).{" "}
          {team.data.members.map((m) => m.display_name).join(", ")}
        </p>
        {round.status === "open" ? (
          <p className="actions">
            <Link className="button" to={`/rounds/${round.slug}/submit`}>
              Submit a pair
            </Link>
            <Link to={`/rounds/${round.slug}/submissions`}>Your team's submissions</Link>
          </p>
        ) : (
          <p>
            The round is {round.status}; it takes no submissions.{" "}
            <Link to={`/rounds/${round.slug}/submissions`}>Your team's submissions</Link>
          </p>
        )}
      </section>
    );
  }
  if (round.status !== "open") return <p className="notice">This round is {round.status}.</p>;
  return <JoinOrCreate round={round} onDone={refresh} />;
}

function JoinOrCreate({ round, onDone }: { round: Round; onDone: () => void }) {
  const slug = round.slug;
  const create = useMutation({
    mutationFn: async (name: string) =>
      unwrap(
        await api.POST("/api/v1/rounds/{slug}/teams", {
          params: { path: { slug } },
          body: { name },
        }),
      ),
    onSuccess: onDone,
  });
  const join = useMutation({
    mutationFn: async (invite_code: string) =>
      unwrap(await api.POST("/api/v1/teams/join", { body: { invite_code } })),
    onSuccess: onDone,
  });
  const elsewhere = join.data && join.data.round_id !== round.id ? join.data : null;
  const [name, setName] = useState("");
  const [code, setCode] = useState("");
  const submitCreate = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(name);
  };
  const submitJoin = (e: FormEvent) => {
    e.preventDefault();
    join.mutate(code);
  };
  return (
    <section className="team" aria-labelledby="enter">
      <h2 id="enter">Enter the round</h2>
      <div className="columns">
        <form onSubmit={submitCreate}>
          <div className="field">
            <label htmlFor="team-name">New team's name</label>
            <input
              id="team-name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              maxLength={80}
              required
            />
          </div>
          <ProblemMessage error={create.error} />
          <button type="submit" disabled={create.isPending}>
            Create team
          </button>
        </form>
        <form onSubmit={submitJoin}>
          <div className="field">
            <label htmlFor="invite">Invite code</label>
            <input id="invite" value={code} onChange={(e) => setCode(e.target.value)} required />
          </div>
          <ProblemMessage
            error={
              join.error instanceof ApiError && join.error.status === 404
                ? new Error("no team has this invite code in an open round; check it with your team")
                : join.error
            }
          />
          <button type="submit" disabled={join.isPending}>
            Join team
          </button>
          {elsewhere && (
            <p className="notice" role="status">
              That code belongs to a team of another round: you joined “{elsewhere.name}” there.{" "}
              <Link to="/">See the rounds</Link>.
            </p>
          )}
        </form>
      </div>
    </section>
  );
}
