import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";

import { api, authHeaders, noticeRefusedToken, unwrap, type Schemas } from "../../api/client";
import { useAction } from "../../lib/useAction";
import { ProblemMessage } from "../../components/Problem";
import { formatDate, formatNumber } from "../../lib/format";
import { useRound } from "../RoundPage";

type Submission = Schemas["SubmissionOut"];
type Status = Schemas["SubmissionStatus"];
type Transition = "open" | "freeze" | "close";

const NEXT: Record<string, Transition[]> = {
  draft: ["open"],
  open: ["freeze", "close"],
  frozen: ["close"],
  closed: [],
};
const CONFIRM: Record<Transition, string> = {
  open: "Open the round? Participants can then enter and submit.",
  freeze: "Freeze the round? The leaderboard stops changing; submissions stop.",
  close: "Close the round? This is final.",
};

export function RoundAdminPage() {
  const { slug = "" } = useParams();
  const round = useRound(slug);
  const queries = useQueryClient();
  const lifecycle = useMutation({
    mutationFn: async (to: Transition) => {
      const params = { params: { path: { slug } } };
      if (to === "open") return unwrap(await api.POST("/api/v1/rounds/{slug}/open", params));
      if (to === "freeze") return unwrap(await api.POST("/api/v1/rounds/{slug}/freeze", params));
      return unwrap(await api.POST("/api/v1/rounds/{slug}/close", params));
    },
    onSuccess: async () => {
      for (const key of ["round", "leaderboard", "groups", "history", "audit"]) {
        await queries.invalidateQueries({ queryKey: [key, slug] });
      }
      await queries.invalidateQueries({ queryKey: ["rounds"] });
    },
  });
  if (round.error) return <ProblemMessage error={round.error} />;
  if (!round.data) return <p>Loading…</p>;
  const r = round.data;
  return (
    <section>
      <p>
        <Link to={`/rounds/${slug}`}>← the round's public page</Link>
      </p>
      <h1>Manage “{r.title}”</h1>
      <p>
        <span className={`badge ${r.status}`}>{r.status}</span> · model version {r.head_version}
      </p>
      <div className="actions">
        {(NEXT[r.status] ?? []).map((to) => (
          <button
            key={to}
            type="button"
            onClick={() => window.confirm(CONFIRM[to]) && lifecycle.mutate(to)}
            disabled={lifecycle.isPending}
          >
            {to[0]!.toUpperCase() + to.slice(1)}
          </button>
        ))}
        {r.status === "draft" && <Link to={`/rounds/${slug}/setup`}>Continue setting up</Link>}
        {r.status !== "draft" && (
          <DownloadButton
            path={`/api/v1/rounds/${slug}/export`}
            filename={`${slug}-model.zip`}
            label="Export the model bundle"
          />
        )}
        <DownloadButton
          path={`/api/v1/rounds/${slug}/archive`}
          filename={`${slug}-archive.zip`}
          label="Download the round archive"
        />
        {r.status !== "draft" && <Link to={`/rounds/${slug}/report`}>Closing report</Link>}
        {r.status !== "draft" && <Link to={`/rounds/${slug}/populations`}>Deployment populations</Link>}
      </div>
      <ProblemMessage error={lifecycle.error} />
      {r.status !== "draft" && <AllSubmissions slug={slug} />}
      <AuditLog slug={slug} />
    </section>
  );
}

/** Download a file of the API (it needs the bearer token, so fetch it as a blob). */
function DownloadButton({ path, filename, label }: { path: string; filename: string; label: string }) {
  const { busy, error, run } = useAction();
  const download = () =>
    run(async () => {
      const response = await fetch(path, { headers: authHeaders() });
      noticeRefusedToken(response.status, true);
      if (!response.ok) {
        const problem: unknown = await response.json().catch(() => null);
        const detail = (problem as { detail?: string } | null)?.detail;
        throw new Error(detail ?? `the download failed (${response.status})`);
      }
      const url = URL.createObjectURL(await response.blob());
      const link = Object.assign(document.createElement("a"), { href: url, download: filename });
      link.click();
      window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
    });
  return (
    <>
      <button type="button" onClick={() => void download()} disabled={busy}>
        {busy ? "Downloading…" : label}
      </button>
      <ProblemMessage error={error} />
    </>
  );
}

type AuditEvent = Schemas["AuditEventOut"];

/** The round's audit log, oldest first, a page at a time, and its download. */
function AuditLog({ slug }: { slug: string }) {
  const log = useInfiniteQuery({
    queryKey: ["audit", slug],
    refetchInterval: 10_000, // verdicts arrive from the workers
    initialPageParam: 0,
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET("/api/v1/rounds/{slug}/audit", {
          params: { path: { slug }, query: { after: pageParam, limit: 100 } },
        }),
      ),
    getNextPageParam: (page) => page.next_after ?? undefined,
  });
  const events: AuditEvent[] = (log.data?.pages ?? []).flatMap((page) => page.events);
  return (
    <section aria-labelledby="audit">
      <h2 id="audit">Audit log</h2>
      <p>
        Every organizer action, team change and verdict, as recorded (entries are never changed
        or deleted).{" "}
        <DownloadButton
          path={`/api/v1/rounds/${slug}/audit.jsonl`}
          filename={`${slug}-audit.jsonl`}
          label="Download the whole log (JSON Lines)"
        />
      </p>
      <ProblemMessage error={log.error} />
      <table className="audit">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">By</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <td>{formatDate(e.at)}</td>
              <td>
                <code>{e.action}</code>
              </td>
              <td>{e.actor ? e.actor.display_name : "worker"}</td>
              <td>
                {Object.entries(e.detail)
                  .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
                  .join(" · ")}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {log.hasNextPage && (
        <button type="button" onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage}>
          {log.isFetchingNextPage ? "Loading…" : "Show more"}
        </button>
      )}
    </section>
  );
}

function AllSubmissions({ slug }: { slug: string }) {
  const [status, setStatus] = useState<Status | "">("");
  const [outcome, setOutcome] = useState("");
  const [search, setSearch] = useState("");
  const list = useQuery({
    queryKey: ["all-submissions", slug, status, outcome],
    refetchInterval: 5_000,
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/rounds/{slug}/submissions", {
          params: {
            path: { slug },
            query: { status: status || undefined, outcome: outcome || undefined, limit: 500 },
          },
        }),
      ),
  });
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (list.data ?? []).filter(
      (s) =>
        !needle ||
        (s.group_expression ?? "").toLowerCase().includes(needle) ||
        s.note.toLowerCase().includes(needle) ||
        String(s.id) === needle,
    );
  }, [list.data, search]);
  return (
    <section aria-labelledby="all">
      <h2 id="all">All submissions</h2>
      <form className="inline" onSubmit={(e) => e.preventDefault()} role="search">
        <div className="field">
          <label htmlFor="status">Status</label>
          <select id="status" value={status} onChange={(e) => setStatus(e.target.value as Status | "")}>
            <option value="">any</option>
            {["queued", "running", "evaluated", "decided"].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="outcome">Verdict</label>
          <select id="outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            <option value="">any</option>
            {["accepted", "rejected", "invalid", "disqualified"].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="search">Search groups and notes</label>
          <input id="search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        </div>
      </form>
      <ProblemMessage error={list.error} />
      <div className="scroll">
        <table>
          <caption>{shown.length} submissions</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">team</th>
              <th scope="col">group</th>
              <th scope="col">submitted</th>
              <th scope="col">verdict</th>
              <th scope="col">holdout score</th>
              <th scope="col"></th>
            </tr>
          </thead>
          <tbody>
            {shown.map((s) => (
              <SubmissionRow key={s.id} submission={s} slug={slug} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function SubmissionRow({ submission: s, slug }: { submission: Submission; slug: string }) {
  const queries = useQueryClient();
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState("");
  const trigger = useRef<HTMLButtonElement>(null);
  const close = () => {
    setAsking(false);
    window.setTimeout(() => trigger.current?.focus(), 0);
  };
  const disqualify = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/submissions/{submission_id}/disqualify", {
          params: { path: { submission_id: s.id } },
          body: { reason },
        }),
      ),
    onSuccess: () => {
      close();
      for (const key of [
        "all-submissions",
        "round",
        "leaderboard",
        "groups",
        "history",
        "feature-usage",
        "audit",
      ]) {
        void queries.invalidateQueries({ queryKey: [key, slug] });
      }
    },
  });
  const release = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/submissions/{submission_id}/release", {
          params: { path: { submission_id: s.id } },
        }),
      ),
    onSuccess: () => {
      for (const key of ["all-submissions", "round", "leaderboard", "groups", "history", "audit"]) {
        void queries.invalidateQueries({ queryKey: [key, slug] });
      }
    },
  });
  const held = s.verdict?.reason === "held_for_review" && !s.released;
  const replay = disqualify.data?.replay ?? release.data?.replay;
  return (
    <tr>
      <td>{s.id}</td>
      <td>{s.team_id}</td>
      <td>{s.group_kind === "rule" ? <code>{s.group_expression}</code> : "group model"}</td>
      <td>{formatDate(s.created_at)}</td>
      <td>
        {s.verdict ? <span className={`badge ${s.verdict.outcome}`}>{s.verdict.outcome}</span> : s.status}
        {s.verdict && <div className="hint">{s.verdict.reason.replaceAll("_", " ")}</div>}
      </td>
      <td className="num">{formatNumber(s.verdict?.holdout?.score, 6)}</td>
      <td>
        {held && (
          <button
            type="button"
            disabled={release.isPending}
            aria-label={`Release submission ${s.id} into the model`}
            title={s.verdict?.message}
            onClick={() => release.mutate()}
          >
            Release
          </button>
        )}
        <ProblemMessage error={release.error} />
        {!s.disqualified && !asking && (
          <button
            type="button"
            ref={trigger}
            aria-label={`Disqualify submission ${s.id}…`}
            onClick={() => setAsking(true)}
          >
            Disqualify…
          </button>
        )}
        {asking && (
          <form
            role="dialog"
            aria-label={`Disqualify submission ${s.id}`}
            onKeyDown={(e) => e.key === "Escape" && close()}
            onSubmit={(e) => {
              e.preventDefault();
              disqualify.mutate();
            }}
          >
            <p>
              The round is replayed without it: later verdicts and the model may change. This is
              recorded in the audit log.
            </p>
            <label htmlFor={`reason-${s.id}`}>Reason (shown to the team)</label>
            <input
              id={`reason-${s.id}`}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              required
              maxLength={500}
              autoFocus
            />
            <div className="actions">
              <button type="submit" disabled={disqualify.isPending}>
                Disqualify submission {s.id}
              </button>
              <button type="button" onClick={close}>
                Cancel
              </button>
            </div>
            <ProblemMessage error={disqualify.error} />
          </form>
        )}
        {replay && (
          <p role="status" className="hint">
            Replayed: model version {replay.head_version_before} → {replay.head_version_after};{" "}
            {replay.changed_submissions.length} verdict(s) changed.
          </p>
        )}
      </td>
    </tr>
  );
}
