import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { api, unwrap, type Schemas } from "../../api/client";
import { upload, type UploadProgress } from "../../api/upload";
import { useAuth } from "../../auth/AuthContext";
import { RateChange } from "../../components/AcceptedGroups";
import { EmptyState, Progress, ProblemMessage, useInvalidFields } from "../../components/Problem";
import { formatDate, formatNumber, formatRate } from "../../lib/format";
import { useRound } from "../RoundPage";

type Population = Schemas["PopulationOut"];
type Figures = Schemas["PopulationFiguresOut"];
type Figure = Schemas["Figure"];

/** The round's deployment populations: add one, see every version and group measured on it;
 * for the organizer, who else may add them and which groups to watch (docs/populations.md). */
export function PopulationsPage() {
  const { slug = "" } = useParams();
  const round = useRound(slug);
  const { user } = useAuth();
  const [chosen, setChosen] = useState<number | null>(null);
  const populations = useQuery({
    queryKey: ["populations", slug],
    refetchInterval: (query) =>
      query.state.data?.some((p) => p.status === "measuring") ? 2_000 : false,
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/rounds/{slug}/populations", { params: { path: { slug } } })),
  });
  if (round.error) return <ProblemMessage error={round.error} />;
  if (!round.data) return <p>Loading…</p>;
  const organizer = user?.id === round.data.organizer_id;
  const list = populations.data ?? [];
  const shown = chosen ?? list[list.length - 1]?.id ?? null;
  return (
    <section>
      <p>
        <Link to={`/rounds/${slug}${organizer ? "/admin" : ""}`}>← {organizer ? "manage the round" : "the round"}</Link>
      </p>
      <h1>Deployment populations of “{round.data.title}”</h1>
      <p>
        Labelled rows from where the model is used. They never decide a pair and participants never see them: every
        version of the model is measured on them, so you see whether the bounty's fixes carry over.
      </p>
      <ProblemMessage error={populations.error} />
      {populations.data && (
        <PopulationList populations={list} shown={shown} onChoose={setChosen} />
      )}
      {shown !== null && <PopulationFigures slug={slug} id={shown} />}
      {organizer && shown !== null && <FollowUp slug={slug} id={shown} />}
      <AddPopulation slug={slug} onAdded={setChosen} />
      {organizer && <WatchedGroups slug={slug} />}
      {organizer && <Deployers slug={slug} />}
    </section>
  );
}

function PopulationList({
  populations,
  shown,
  onChoose,
}: {
  populations: Population[];
  shown: number | null;
  onChoose: (id: number) => void;
}) {
  if (populations.length === 0) {
    return (
      <EmptyState title="No populations yet">
        <p>Add a table with the round's features and label below.</p>
      </EmptyState>
    );
  }
  return (
    <table data-testid="populations">
      <caption>Populations</caption>
      <thead>
        <tr>
          <th scope="col">name</th>
          <th scope="col">rows</th>
          <th scope="col">status</th>
          <th scope="col">added</th>
          <th scope="col"></th>
        </tr>
      </thead>
      <tbody>
        {populations.map((p) => (
          <tr key={p.id} aria-current={p.id === shown ? "true" : undefined}>
            <th scope="row">{p.name}</th>
            <td className="num">{p.n_rows.toLocaleString("en")}</td>
            <td>
              <span className={`badge ${p.status === "measured" ? "open" : p.status}`}>{p.status}</span>
              {p.error && <span className="hint"> {p.error}</span>}
            </td>
            <td>{formatDate(p.created_at)}</td>
            <td>
              <button type="button" onClick={() => onChoose(p.id)} disabled={p.id === shown}>
                Show figures
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function figureCells(f: Figure | null | undefined, rates: boolean) {
  return (
    <>
      <td className="num">{formatNumber(f?.loss, 4)}</td>
      {rates && <td className="num">{formatRate(f?.false_positive_rate, 1)}</td>}
      {rates && <td className="num">{formatRate(f?.false_negative_rate, 1)}</td>}
    </>
  );
}

/** One population's figures: every version, every accepted and watched group. */
export function PopulationFigures({ slug, id, level = 2 }: { slug: string; id: number; level?: 2 | 3 }) {
  const headingId = useId();
  const Heading = level === 2 ? "h2" : "h3";
  const figures = useQuery({
    queryKey: ["populations", slug, id],
    refetchInterval: (query) => (query.state.data?.population.status === "measuring" ? 2_000 : false),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/rounds/{slug}/populations/{population_id}", {
          params: { path: { slug, population_id: id } },
        }),
      ),
  });
  if (figures.error) return <ProblemMessage error={figures.error} />;
  if (!figures.data) return <p>Loading the figures…</p>;
  const f: Figures = figures.data;
  const rates = f.versions.some((v) => v.false_positive_rate != null || v.false_negative_rate != null);
  const holdout = f.versions.some((v) => v.holdout_loss != null);
  return (
    <section aria-labelledby={headingId} data-testid="population-figures">
      <Heading id={headingId}>
        “{f.population.name}”: {f.population.n_rows.toLocaleString("en")} rows
      </Heading>
      {f.population.description && <p>{f.population.description}</p>}
      {f.population.status === "measuring" && (
        <p className="notice" role="status">
          The workers are measuring the model on it
          {f.measured_version !== null ? ` (versions up to ${f.measured_version} of ${f.head_version} so far)` : ""}…
        </p>
      )}
      {f.population.error && <p className="problem">{f.population.error}</p>}
      {f.failed_pair && <p className="problem">{f.failed_pair}</p>}
      {f.versions.length > 0 && (
        <div className="scroll">
          <table data-testid="population-versions">
            <caption>Every version of the model on this population ({f.loss} loss)</caption>
            <thead>
              <tr>
                <th scope="col">version</th>
                <th scope="col">node</th>
                <th scope="col">loss here</th>
                {rates && <th scope="col">false-positive rate</th>}
                {rates && <th scope="col">false-negative rate</th>}
                {holdout && <th scope="col">holdout loss</th>}
              </tr>
            </thead>
            <tbody>
              {f.versions.map((v) => (
                <tr key={v.version}>
                  <th scope="row">{v.version}</th>
                  <td>
                    {v.kind}
                    {v.submission_id !== null && ` (submission ${v.submission_id})`}
                  </td>
                  {figureCells(v, rates)}
                  {holdout && <td className="num">{formatNumber(v.holdout_loss, 4)}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {f.groups.length > 0 && (
        <div className="scroll">
          <table data-testid="population-groups">
            <caption>Each group on this population: its loss under the base model, around its patch, and now</caption>
            <thead>
              <tr>
                <th scope="col">group</th>
                <th scope="col">team</th>
                <th scope="col">rows here</th>
                <th scope="col">base model</th>
                <th scope="col">before its patch</th>
                <th scope="col">with its patch</th>
                <th scope="col">newest model</th>
                {rates && <th scope="col">false-positive rate, base → newest</th>}
                {rates && <th scope="col">false-negative rate, base → newest</th>}
              </tr>
            </thead>
            <tbody>
              {f.groups.map((g) => (
                <tr key={`${g.kind}-${g.submission_id ?? g.group}`}>
                  <th scope="row">
                    <code>{g.group}</code> {g.kind === "watched" && <span className="badge">watched</span>}
                  </th>
                  <td>{g.team ?? "—"}</td>
                  <td className="num">{g.rows.toLocaleString("en")}</td>
                  <td className="num">{formatNumber(g.base.loss, 4)}</td>
                  <td className="num">{formatNumber(g.before?.loss, 4)}</td>
                  <td className="num">{formatNumber(g.after?.loss, 4)}</td>
                  <td className="num">{formatNumber(g.head.loss, 4)}</td>
                  {rates && (
                    <RateChange before={g.base.false_positive_rate} after={g.head.false_positive_rate} digits={1} />
                  )}
                  {rates && (
                    <RateChange before={g.base.false_negative_rate} after={g.head.false_negative_rate} digits={1} />
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** A follow-up round whose hidden holdout is this population, from the current model. */
function FollowUp({ slug, id }: { slug: string; id: number }) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [title, setTitle] = useState("");
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/rounds/{slug}/populations/{population_id}/follow-up", {
          params: { path: { slug, population_id: id } },
          body: { title },
        }),
      ),
    onSuccess: (round) => {
      void queries.invalidateQueries({ queryKey: ["rounds"] });
      navigate(`/rounds/${round.slug}/setup`);
    },
  });
  return (
    <section aria-labelledby="follow-up">
      <h2 id="follow-up">A follow-up round on this population</h2>
      <p className="hint">
        A new draft with the same rules: the round's public train split, this population as the hidden holdout, and the
        round's current model as the base model. You review it before opening it.
      </p>
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <div className="field">
          <label htmlFor="follow-up-title">Title of the follow-up round</label>
          <input id="follow-up-title" value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={200} />
        </div>
        <button type="submit" disabled={create.isPending}>
          Start the follow-up round
        </button>
      </form>
      <ProblemMessage error={create.error} />
    </section>
  );
}

function AddPopulation({ slug, onAdded }: { slug: string; onAdded: (id: number) => void }) {
  const queries = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [error, setError] = useState<unknown>(null);
  useInvalidFields(form, error);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const element = event.currentTarget;
    const body = new FormData(element);
    setError(null);
    const file = body.get("file");
    setProgress({ loaded: 0, total: file instanceof File ? file.size : 0 });
    try {
      const added = await upload<Population>(`/api/v1/rounds/${slug}/populations`, body, setProgress);
      element.reset();
      await queries.invalidateQueries({ queryKey: ["populations", slug] });
      onAdded(added.id);
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
    }
  }

  return (
    <form onSubmit={submit} ref={form} aria-labelledby="add-population">
      <h2 id="add-population">Add a population</h2>
      <div className="columns">
        <div className="field">
          <label htmlFor="population-name">Name</label>
          <input id="population-name" name="name" required maxLength={100} />
        </div>
        <div className="field">
          <label htmlFor="population-file">Table (CSV or Parquet) with the round's features and label</label>
          <input id="population-file" name="file" type="file" accept=".csv,.parquet,.gz" required />
        </div>
      </div>
      <div className="field">
        <label htmlFor="population-description">Where and when the rows come from</label>
        <textarea id="population-description" name="description" rows={2} maxLength={5000} />
      </div>
      {progress && <Progress value={progress.loaded} max={progress.total} label="Upload progress" />}
      <ProblemMessage error={error} />
      <button type="submit" disabled={progress !== null}>
        Add the population
      </button>
    </form>
  );
}

function WatchedGroups({ slug }: { slug: string }) {
  const queries = useQueryClient();
  const [expression, setExpression] = useState("");
  const groups = useQuery({
    queryKey: ["watched-groups", slug],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/rounds/{slug}/watched-groups", { params: { path: { slug } } })),
  });
  const refresh = () => queries.invalidateQueries({ queryKey: ["populations", slug] });
  const add = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/rounds/{slug}/watched-groups", {
          params: { path: { slug } },
          body: { expression },
        }),
      ),
    onSuccess: async () => {
      setExpression("");
      await queries.invalidateQueries({ queryKey: ["watched-groups", slug] });
      await refresh();
    },
  });
  const remove = useMutation({
    mutationFn: async (id: number) =>
      unwrap(
        await api.DELETE("/api/v1/rounds/{slug}/watched-groups/{group_id}", {
          params: { path: { slug, group_id: id } },
        }),
      ),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ["watched-groups", slug] });
      await refresh();
    },
  });
  return (
    <section aria-labelledby="watched">
      <h2 id="watched">Groups to watch</h2>
      <p className="hint">Measured on every population next to the accepted groups, e.g. a protected group.</p>
      <ul>
        {(groups.data ?? []).map((g) => (
          <li key={g.id}>
            <code>{g.expression}</code>{" "}
            <button type="button" onClick={() => remove.mutate(g.id)} disabled={remove.isPending}>
              Stop watching
            </button>
          </li>
        ))}
      </ul>
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
      >
        <div className="field">
          <label htmlFor="watch-expression">Rule</label>
          <input id="watch-expression" value={expression} onChange={(e) => setExpression(e.target.value)} required />
        </div>
        <button type="submit" disabled={add.isPending}>
          Watch this group
        </button>
      </form>
      <ProblemMessage error={add.error ?? remove.error ?? groups.error} />
    </section>
  );
}

function Deployers({ slug }: { slug: string }) {
  const queries = useQueryClient();
  const [email, setEmail] = useState("");
  const deployers = useQuery({
    queryKey: ["deployers", slug],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/rounds/{slug}/deployers", { params: { path: { slug } } })),
  });
  const grant = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/rounds/{slug}/deployers", { params: { path: { slug } }, body: { email } }),
      ),
    onSuccess: async () => {
      setEmail("");
      await queries.invalidateQueries({ queryKey: ["deployers", slug] });
    },
  });
  const revoke = useMutation({
    mutationFn: async (id: number) =>
      unwrap(
        await api.DELETE("/api/v1/rounds/{slug}/deployers/{user_id}", {
          params: { path: { slug, user_id: id } },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["deployers", slug] }),
  });
  return (
    <section aria-labelledby="deployers">
      <h2 id="deployers">Deployers</h2>
      <p className="hint">
        People who use the model elsewhere (a customer): they may add populations and read the figures of their own,
        never the holdout's.
      </p>
      <ul>
        {(deployers.data ?? []).map((d) => (
          <li key={d.id}>
            {d.display_name} ({d.email}){" "}
            <button type="button" onClick={() => revoke.mutate(d.id)} disabled={revoke.isPending}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          grant.mutate();
        }}
      >
        <div className="field">
          <label htmlFor="deployer-email">Their account's email</label>
          <input id="deployer-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
        </div>
        <button type="submit" disabled={grant.isPending}>
          Let them add populations
        </button>
      </form>
      <ProblemMessage error={grant.error ?? revoke.error ?? deployers.error} />
    </section>
  );
}
