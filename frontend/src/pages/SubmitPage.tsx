import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { api, ApiError, unwrap, type Schemas } from "../api/client";
import { upload, type UploadProgress } from "../api/upload";
import { useAuth } from "../auth/AuthContext";
import { ExpressionInput, type ExpressionCheck } from "../components/ExpressionInput";
import { SignInFirst } from "../components/Layout";
import { Progress, ProblemMessage } from "../components/Problem";
import { RuleBuilder } from "../components/RuleBuilder";
import { formatBytes, formatDate } from "../lib/format";
import { useRound } from "./RoundPage";

type Mode = "builder" | "text" | "model";
type Accepted = Schemas["SubmissionAccepted"];

/** Most model files are far smaller; the server's limit is the real one (413 past it). */
const MODEL_LIMIT_HINT = "skops (.skops) or ONNX (.onnx); never pickle";

export function SubmitPage() {
  const { slug = "" } = useParams();
  const { user } = useAuth();
  const round = useRound(slug);
  const schema = useQuery({
    queryKey: ["schema", slug],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/rounds/{slug}/schema", { params: { path: { slug } } })),
  });
  const quota = useQuery({
    queryKey: ["quota", slug, user?.id],
    enabled: user !== null,
    retry: false,
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/rounds/{slug}/quota", { params: { path: { slug } } })),
  });

  if (!user) return <SignInFirst what="submit" />;
  if (round.error || schema.error) return <ProblemMessage error={round.error ?? schema.error} />;
  if (!round.data || !schema.data) return <p>Loading…</p>;
  if (quota.error instanceof ApiError && quota.error.status === 403) {
    return (
      <p className="notice">
        Join or create a team on the <Link to={`/rounds/${slug}`}>round's page</Link> first.
      </p>
    );
  }
  return (
    <section>
      <h1>Submit a pair to {round.data.title}</h1>
      <p className="lead">
        A pair is a group <em>g</em> (a rule over the features, or a 0/1 model) and a model{" "}
        <em>h</em> for it. It is accepted if <em>h</em> is better than the current model on the
        group by enough, on the hidden holdout.
      </p>
      {quota.data && (
        <p className="notice" data-testid="quota">
          {quota.data.remaining} of {quota.data.limit} submissions left today (resets{" "}
          {formatDate(quota.data.resets_at)}).
        </p>
      )}
      <SubmitForm slug={slug} features={schema.data.features} />
    </section>
  );
}

function SubmitForm({ slug, features }: { slug: string; features: Schemas["Feature"][] }) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [mode, setMode] = useState<Mode>("builder");
  const [built, setBuilt] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [checked, setChecked] = useState<ExpressionCheck | null>(null);
  const [groupModel, setGroupModel] = useState<File | null>(null);
  const [model, setModel] = useState<File | null>(null);
  const [note, setNote] = useState("");
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [error, setError] = useState<unknown>(null);

  const check = useCallback(
    async (expression: string) =>
      unwrap(
        await api.POST("/api/v1/rounds/{slug}/expressions/check", {
          params: { path: { slug } },
          body: { expression },
        }),
      ),
    [slug],
  );
  const expression = mode === "builder" ? built : mode === "text" ? text.trim() || null : null;
  const groupReady =
    mode === "model"
      ? groupModel !== null
      : expression !== null &&
        (mode !== "text" || (checked?.valid === true && checked.expression === text));

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!model || !groupReady) return;
    const form = new FormData();
    if (mode === "model" && groupModel) form.append("group_model", groupModel);
    else if (expression) form.append("group_expression", expression);
    form.append("model", model);
    if (note) form.append("note", note);
    setError(null);
    setProgress({ loaded: 0, total: model.size });
    try {
      const accepted = await upload<Accepted>(
        `/api/v1/rounds/${slug}/submissions`,
        form,
        setProgress,
        { "Idempotency-Key": crypto.randomUUID() },
      );
      void queries.invalidateQueries({ queryKey: ["quota", slug] });
      navigate(`/submissions/${accepted.submission.id}`);
    } catch (e) {
      setError(e);
      setProgress(null);
      void queries.invalidateQueries({ queryKey: ["quota", slug] });
    }
  }

  const fieldError = (field: string) =>
    error instanceof ApiError && error.causesFor(field).length > 0 ? error : null;

  return (
    <form onSubmit={submit} className="submit-form">
      <fieldset>
        <legend>The group g</legend>
        <div className="tabs" role="radiogroup" aria-label="How to give the group">
          {(
            [
              ["builder", "Rule builder"],
              ["text", "Write a rule"],
              ["model", "Upload a group model"],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className={mode === value ? "tab active" : "tab"}>
              <input
                type="radio"
                name="mode"
                value={value}
                checked={mode === value}
                onChange={() => setMode(value)}
              />
              {label}
            </label>
          ))}
        </div>
        {mode === "builder" && <RuleBuilder features={features} onChange={setBuilt} />}
        {mode === "text" && (
          <ExpressionInput value={text} onChange={setText} check={check} onResult={setChecked} />
        )}
        {mode === "model" && (
          <div className="field">
            <label htmlFor="group-model">Group model (predicts 1 for members)</label>
            <input
              id="group-model"
              type="file"
              accept=".skops,.onnx"
              onChange={(e) => setGroupModel(e.target.files?.[0] ?? null)}
            />
            <p className="hint">{MODEL_LIMIT_HINT}</p>
          </div>
        )}
        <ProblemMessage error={fieldError("group_expression") ?? fieldError("group_model")} />
      </fieldset>

      <fieldset>
        <legend>The model h</legend>
        <div className="field">
          <label htmlFor="model">Model file</label>
          <input
            id="model"
            type="file"
            accept=".skops,.onnx"
            required
            aria-describedby="model-hint"
            onChange={(e) => setModel(e.target.files?.[0] ?? null)}
          />
          <p className="hint" id="model-hint">
            {MODEL_LIMIT_HINT}. {model ? `Selected: ${model.name}, ${formatBytes(model.size)}.` : ""}
          </p>
        </div>
        <ProblemMessage error={fieldError("model")} id="model-error" />
        <div className="field">
          <label htmlFor="note">Note (optional, for your team)</label>
          <input id="note" value={note} onChange={(e) => setNote(e.target.value)} maxLength={2000} />
        </div>
      </fieldset>

      {error !== null && !fieldError("group_expression") && !fieldError("group_model") && !fieldError("model") && (
        <ProblemMessage error={error} />
      )}
      {progress && <Progress value={progress.loaded} max={progress.total} label="Upload progress" />}
      <button type="submit" disabled={!model || !groupReady || progress !== null}>
        {progress ? "Uploading…" : "Submit"}
      </button>
    </form>
  );
}
