import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";

import { api, unwrap, type Schemas } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { SignInFirst } from "../components/Layout";
import { EmptyState, ProblemMessage } from "../components/Problem";
import { formatDate } from "../lib/format";
import { StatusLine } from "./SubmissionPage";

export function MySubmissionsPage() {
  const { slug = "" } = useParams();
  const { user } = useAuth();
  const list = useQuery({
    queryKey: ["submissions", slug, user?.id],
    enabled: user !== null,
    // One request for the whole list while anything is undecided (a stream per row would use
    // up the browser's connections to the server).
    refetchInterval: (query) =>
      (query.state.data ?? []).some((s) => s.status !== "decided") ? 2_000 : false,
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/rounds/{slug}/submissions", { params: { path: { slug } } }),
      ),
  });
  if (!user) return <SignInFirst what="see your submissions" />;
  return (
    <section>
      <p>
        <Link to={`/rounds/${slug}`}>← the round</Link>
      </p>
      <h1>Your team's submissions</h1>
      <ProblemMessage error={list.error} />
      {list.data?.length === 0 && (
        <EmptyState title="No submissions yet">
          <p>
            <Link to={`/rounds/${slug}/submit`}>Submit a pair</Link>; its verdict appears here as
            soon as it is decided.
          </p>
        </EmptyState>
      )}
      <ol className="submissions" reversed>
        {list.data?.map((s) => <Row key={s.id} submission={s} />)}
      </ol>
    </section>
  );
}

function Row({ submission: s }: { submission: Schemas["SubmissionOut"] }) {
  return (
    <li>
      <Link to={`/submissions/${s.id}`}>#{s.id}</Link>{" "}
      {s.group_kind === "rule" ? <code>{s.group_expression}</code> : "group model"}{" "}
      <span className="muted">{formatDate(s.created_at)}</span>
      <StatusLine submission={s} />
    </li>
  );
}
