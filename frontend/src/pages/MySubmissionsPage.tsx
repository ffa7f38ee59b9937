import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";

import { api, unwrap, type Schemas } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { SignInFirst } from "../components/Layout";
import { EmptyState, ProblemMessage } from "../components/Problem";
import { formatDate } from "../lib/format";
import { StatusLine, useLiveSubmission } from "./SubmissionPage";

export function MySubmissionsPage() {
  const { slug = "" } = useParams();
  const { user } = useAuth();
  const list = useQuery({
    queryKey: ["submissions", slug, user?.id],
    enabled: user !== null,
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
        {list.data?.map((s) => <Row key={s.id} initial={s} />)}
      </ol>
    </section>
  );
}

/** One submission, following its status live while it is not decided. */
function Row({ initial }: { initial: Schemas["SubmissionOut"] }) {
  const live = useLiveSubmission(initial.id, initial);
  const s = live.data ?? initial;
  return (
    <li>
      <Link to={`/submissions/${s.id}`}>#{s.id}</Link>{" "}
      {s.group_kind === "rule" ? <code>{s.group_expression}</code> : "group model"}{" "}
      <span className="muted">{formatDate(s.created_at)}</span>
      <StatusLine submission={s} />
    </li>
  );
}
