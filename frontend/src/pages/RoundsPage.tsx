import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";

import { api, unwrap } from "../api/client";
import { EmptyState, ProblemMessage } from "../components/Problem";
import { formatDate } from "../lib/format";

export function RoundsPage() {
  const rounds = useQuery({
    queryKey: ["rounds"],
    queryFn: async () => unwrap(await api.GET("/api/v1/rounds")),
  });
  return (
    <section>
      <h1>Rounds</h1>
      <p className="lead">
        Each round is a deployed model and a hidden test set. Find a group of people on whom the
        model does badly, submit a better model for them, and climb the leaderboard.
      </p>
      <ProblemMessage error={rounds.error} />
      {rounds.isLoading && <p>Loading rounds…</p>}
      {rounds.data?.length === 0 && (
        <EmptyState title="No rounds yet">
          <p>When an organizer opens a round, it appears here.</p>
        </EmptyState>
      )}
      <ul className="cards">
        {rounds.data?.map((round) => (
          <li key={round.slug} className="card">
            <h2>
              <Link to={`/rounds/${round.slug}`}>{round.title}</Link>
            </h2>
            <p>
              <span className={`badge ${round.status}`}>{round.status}</span>{" "}
              {round.closes_at ? `closes ${formatDate(round.closes_at)}` : "no closing date"}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
