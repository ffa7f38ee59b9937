import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { api, unwrap, type Schemas } from "../../api/client";
import { upload, type UploadProgress } from "../../api/upload";
import { useAuth } from "../../auth/AuthContext";
import { CostMatrixEditor, costsProblem, zeroOneCosts } from "../../components/CostMatrixEditor";
import { SignInFirst } from "../../components/Layout";
import { Progress, ProblemMessage, useInvalidFields } from "../../components/Problem";
import { formatBytes } from "../../lib/format";
import { useRound } from "../RoundPage";

type Round = Schemas["RoundOut"];
type Dataset = Schemas["DatasetOut"];

const STEPS = ["Rules", "Data", "Base model", "Open"] as const;

function Steps({ current }: { current: number }) {
  return (
    <ol className="steps" aria-label="Steps">
      {STEPS.map((name, i) => (
        <li key={name} aria-current={i === current ? "step" : undefined} className={i < current ? "done" : ""}>
          {name}
        </li>
      ))}
    </ol>
  );
}

/** Step 1: a new draft round with its rules. */
export function NewRoundPage() {
  const { user } = useAuth();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [loss, setLoss] = useState<Schemas["LossKind"]>("zero_one");
  const [costs, setCosts] = useState<number[][]>(() => zeroOneCosts(2));
  const create = useMutation({
    mutationFn: async (body: Schemas["RoundCreate"]) =>
      unwrap(await api.POST("/api/v1/rounds", { body })),
    onSuccess: (round) => {
      void queries.invalidateQueries({ queryKey: ["rounds"] });
      navigate(`/rounds/${round.slug}/setup`);
    },
  });
  useInvalidFields(form, create.error);
  if (!user) return <SignInFirst what="create a round" />;
  if (user.role !== "organizer") return <p className="notice">Only organizers create rounds.</p>;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const f = new FormData(event.currentTarget);
    const text = (name: string) => String(f.get(name) ?? "").trim();
    const when = (name: string) => (text(name) ? new Date(text(name)).toISOString() : null);
    create.mutate({
      title: text("title"),
      description: text("description"),
      loss,
      loss_clip: null,
      loss_costs: loss === "cost" ? costs : null,
      alpha: Number(text("alpha")),
      min_group_rows: Number(text("min_group_rows")),
      repair_alpha: Number(text("repair_alpha")),
      acceptance_test: text("acceptance_test") as Schemas["AcceptanceTest"],
      confidence: Number(text("confidence")),
      planned_submissions: Number(text("planned_submissions")),
      test_guard: f.get("test_guard") === "on",
      daily_quota: Number(text("daily_quota")),
      max_team_size: Number(text("max_team_size")),
      disclosure: text("disclosure") as Schemas["Disclosure"],
      opens_at: when("opens_at"),
      closes_at: when("closes_at"),
    });
  }

  return (
    <section>
      <h1>New round</h1>
      <Steps current={0} />
      <form onSubmit={submit} ref={form}>
        <div className="field">
          <label htmlFor="title">Title</label>
          <input id="title" name="title" required maxLength={200} />
        </div>
        <div className="field">
          <label htmlFor="description">Description (Markdown: the task, the data, the prizes)</label>
          <textarea id="description" name="description" rows={6} />
        </div>
        <div className="columns">
          <div className="field">
            <label htmlFor="loss">Loss</label>
            <select
              id="loss"
              name="loss"
              value={loss}
              onChange={(e) => setLoss(e.target.value as Schemas["LossKind"])}
            >
              <option value="zero_one">0-1 error (classification)</option>
              <option value="cost">cost-weighted errors (classification)</option>
              <option value="squared">squared error (regression)</option>
              <option value="absolute">absolute error (regression)</option>
            </select>
          </div>
          {loss === "cost" && <CostMatrixEditor costs={costs} onChange={setCosts} />}
          <div className="field">
            <label htmlFor="acceptance_test">How an improvement is judged enough</label>
            <select id="acceptance_test" name="acceptance_test" defaultValue="significance" aria-describedby="acceptance-hint">
              <option value="significance">statistically significant, with confidence below (default)</option>
              <option value="threshold">any holdout improvement of at least alpha</option>
            </select>
            <p className="hint" id="acceptance-hint">
              With the significance test, an accepted pair improves the model on its group with the chosen confidence,
              for the whole round: the error budget is spread over the planned number of submissions.
            </p>
          </div>
          <div className="field">
            <label htmlFor="confidence">Confidence</label>
            <input id="confidence" name="confidence" type="number" step="any" min={0.5} max={0.999} defaultValue={0.95} required />
          </div>
          <div className="field">
            <label htmlFor="planned_submissions">Planned submissions (whole round)</label>
            <input id="planned_submissions" name="planned_submissions" type="number" min={1} defaultValue={1000} required />
          </div>
          <div className="field">
            <label>
              <input type="checkbox" name="test_guard" aria-describedby="test-guard-hint" /> Hold pairs that hurt on the
              sealed test split for my review
            </label>
            <p className="hint" id="test-guard-hint">
              A pair that passes on the holdout but makes the model worse on the test split beyond its 95% interval is not
              spliced in until you release it.
            </p>
          </div>
          <div className="field">
            <label htmlFor="alpha">Alpha: the smallest improvement accepted</label>
            <input id="alpha" name="alpha" type="number" step="any" min={0} defaultValue={0.001} required aria-describedby="alpha-hint" />
            <p className="hint" id="alpha-hint">
              A pair must lower the model's average holdout loss by at least alpha. After the data is
              uploaded you see what it means in holdout rows.
            </p>
          </div>
          <div className="field">
            <label htmlFor="min_group_rows">Minimum group size (holdout rows)</label>
            <input id="min_group_rows" name="min_group_rows" type="number" min={1} defaultValue={30} required />
          </div>
          <div className="field">
            <label htmlFor="repair_alpha">Repair tolerance</label>
            <input id="repair_alpha" name="repair_alpha" type="number" step="any" min={0} defaultValue={0} required />
          </div>
          <div className="field">
            <label htmlFor="daily_quota">Submissions per team per day</label>
            <input id="daily_quota" name="daily_quota" type="number" min={1} defaultValue={10} required />
          </div>
          <div className="field">
            <label htmlFor="max_team_size">Maximum team size</label>
            <input id="max_team_size" name="max_team_size" type="number" min={1} defaultValue={5} required />
          </div>
          <div className="field">
            <label htmlFor="disclosure">What verdicts disclose of the holdout</label>
            <select id="disclosure" name="disclosure" defaultValue="rounded">
              <option value="rounded">numbers rounded to their sampling error (default)</option>
              <option value="exact">exact numbers (classroom mode)</option>
              <option value="none">no numbers, verdicts only</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="opens_at">Opens (optional)</label>
            <input id="opens_at" name="opens_at" type="datetime-local" />
          </div>
          <div className="field">
            <label htmlFor="closes_at">Closes (optional)</label>
            <input id="closes_at" name="closes_at" type="datetime-local" />
          </div>
        </div>
        <ProblemMessage error={create.error} />
        <button type="submit" disabled={create.isPending || (loss === "cost" && costsProblem(costs) !== null)}>
          Create the draft round
        </button>
      </form>
    </section>
  );
}

/** The columns of a CSV file, read from its first line (the label is chosen among them). */
export async function csvColumns(file: File): Promise<string[]> {
  const head = await file.slice(0, 64 * 1024).text();
  const line = head.split(/\r?\n/, 1)[0] ?? "";
  return line
    .replace(/^\uFEFF/, "")
    .split(",")
    .map((c) => c.trim().replace(/^"(.*)"$/, "$1"))
    .filter(Boolean);
}

/** Steps 2 to 4 of a draft round: data, base model, open. */
export function RoundSetupPage() {
  const { slug = "" } = useParams();
  const round = useRound(slug);
  if (round.error) return <ProblemMessage error={round.error} />;
  if (!round.data) return <p>Loading…</p>;
  const r = round.data;
  const step = r.data === null ? 1 : r.base_model === null ? 2 : 3;
  return (
    <section>
      <h1>Set up “{r.title}”</h1>
      <Steps current={step} />
      {r.status !== "draft" ? (
        <p className="notice">
          The round is {r.status}. <Link to={`/rounds/${slug}/admin`}>Manage it</Link>.
        </p>
      ) : (
        <>
          <DataStep round={r} />
          {r.data && <BaseModelStep round={r} />}
          {r.data && r.base_model && <OpenStep round={r} />}
        </>
      )}
    </section>
  );
}

function DataStep({ round }: { round: Round }) {
  const queries = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [columns, setColumns] = useState<string[]>([]);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<Dataset | null>(null);
  const form = useRef<HTMLFormElement>(null);
  useInvalidFields(form, error);

  async function choose(chosen: File | null) {
    setFile(chosen);
    // Only a plain CSV can be read here; for Parquet or gzip the label is typed in.
    setColumns(chosen && chosen.name.toLowerCase().endsWith(".csv") ? await csvColumns(chosen) : []);
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!file) return;
    const form = new FormData(event.currentTarget);
    form.set("file", file);
    setError(null);
    setProgress({ loaded: 0, total: file.size });
    try {
      setResult(await upload<Dataset>(`/api/v1/rounds/${round.slug}/dataset`, form, setProgress));
      await queries.invalidateQueries({ queryKey: ["round", round.slug] });
      await queries.invalidateQueries({ queryKey: ["schema", round.slug] });
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
    }
  }

  const meaning = result?.alpha_meaning ?? round.alpha_meaning;
  return (
    <form onSubmit={submit} aria-labelledby="data-step" ref={form}>
      <h2 id="data-step">Data {round.data && <span className="badge open">uploaded</span>}</h2>
      {round.data && (
        <p>
          {round.data.n_train.toLocaleString("en")} train, {round.data.n_holdout.toLocaleString("en")}{" "}
          holdout and {round.data.n_test.toLocaleString("en")} test rows; label{" "}
          <code>{round.data.label}</code>. Uploading again replaces the data (and the base model).
        </p>
      )}
      {round.data && round.costs_explained && (
        <p data-testid="setup-costs">
          With this label's classes, the costs read: {round.costs_explained}
        </p>
      )}
      <div className="field">
        <label htmlFor="data-file">Table (CSV or Parquet), split at random</label>
        <input id="data-file" type="file" accept=".csv,.parquet,.gz" required onChange={(e) => void choose(e.target.files?.[0] ?? null)} />
        {file && <p className="hint">{file.name}, {formatBytes(file.size)}</p>}
      </div>
      <div className="field">
        <label htmlFor="label">Label column</label>
        {columns.length > 0 ? (
          <select id="label" name="label" key={columns.join(",")} defaultValue={columns[columns.length - 1]}>
            {columns.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        ) : (
          <input id="label" name="label" required placeholder="the column to predict" />
        )}
      </div>
      <fieldset>
        <legend>Split</legend>
        <div className="columns">
          {(
            [
              ["train_fraction", "Train (public)", 0.6],
              ["holdout_fraction", "Holdout (decides)", 0.2],
              ["test_fraction", "Test (sealed)", 0.2],
            ] as const
          ).map(([name, label, value]) => (
            <div className="field" key={name}>
              <label htmlFor={name}>{label}</label>
              <input id={name} name={name} type="number" step="0.01" min={0} max={1} defaultValue={value} />
            </div>
          ))}
          <div className="field">
            <label htmlFor="seed">Seed</label>
            <input id="seed" name="seed" type="number" min={0} defaultValue={0} />
          </div>
        </div>
      </fieldset>
      <ProblemMessage error={error} />
      {progress && <Progress value={progress.loaded} max={progress.total} label="Upload progress" />}
      <button type="submit" disabled={!file || progress !== null}>
        {progress ? "Uploading…" : "Upload and split"}
      </button>
      {meaning && (
        <p className="notice" data-testid="alpha-meaning">
          Holdout: {meaning.n_holdout.toLocaleString("en")} rows. {meaning.summary}
        </p>
      )}
    </form>
  );
}

function BaseModelStep({ round }: { round: Round }) {
  const queries = useQueryClient();
  const refresh = () => queries.invalidateQueries({ queryKey: ["round", round.slug] });
  const train = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/rounds/{slug}/base-model/default", {
          params: { path: { slug: round.slug } },
        }),
      ),
    onSuccess: refresh,
  });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function uploadModel(file: File | null) {
    if (!file) return;
    const form = new FormData();
    form.set("file", file);
    setBusy(true);
    setError(null);
    try {
      await upload(`/api/v1/rounds/${round.slug}/base-model`, form);
      await refresh();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="model-step">
      <h2 id="model-step">
        Base model {round.base_model && <span className="badge open">{round.base_model.source}</span>}
      </h2>
      <p>The deployed model that participants improve: yours, or the platform's documented default.</p>
      <div className="actions">
        <button type="button" onClick={() => train.mutate()} disabled={train.isPending || busy}>
          {train.isPending ? "Training…" : "Train the default model on the train split"}
        </button>
        <label className="button-like">
          Upload a model (skops or ONNX)
          <input type="file" accept=".skops,.onnx" onChange={(e) => void uploadModel(e.target.files?.[0] ?? null)} />
        </label>
      </div>
      <ProblemMessage error={train.error ?? error} />
    </section>
  );
}

function OpenStep({ round }: { round: Round }) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const open = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/rounds/{slug}/open", { params: { path: { slug: round.slug } } })),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ["round", round.slug] });
      await queries.invalidateQueries({ queryKey: ["rounds"] });
      navigate(`/rounds/${round.slug}/admin`);
    },
  });
  return (
    <section aria-labelledby="open-step">
      <h2 id="open-step">Open</h2>
      <p>Once open, participants can enter and submit; the rules can no longer change.</p>
      <ProblemMessage error={open.error} />
      <button type="button" onClick={() => open.mutate()} disabled={open.isPending}>
        Open the round
      </button>
    </section>
  );
}

/** The organizer's rounds, drafts included. */
export function OrganizePage() {
  const { user } = useAuth();
  const rounds = useQuery({
    queryKey: ["rounds", "mine", user?.id],
    enabled: user !== null,
    queryFn: async () => unwrap(await api.GET("/api/v1/rounds")),
  });
  if (!user) return <SignInFirst what="organize rounds" />;
  const mine = (rounds.data ?? []).filter((r) => r.organizer_id === user.id);
  return (
    <section>
      <h1>Your rounds</h1>
      <p>
        <Link className="button" to="/organize/new">
          New round
        </Link>
      </p>
      <ProblemMessage error={rounds.error} />
      {rounds.data && mine.length === 0 && <p className="empty">You have no rounds yet.</p>}
      <ul className="cards">
        {mine.map((r) => (
          <li className="card" key={r.slug}>
            <h2>{r.title}</h2>
            <p>
              <span className={`badge ${r.status}`}>{r.status}</span>{" "}
              {r.status === "draft" ? (
                <Link to={`/rounds/${r.slug}/setup`}>continue setting up</Link>
              ) : (
                <Link to={`/rounds/${r.slug}/admin`}>manage</Link>
              )}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
