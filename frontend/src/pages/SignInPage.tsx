import type { FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";

import { api, unwrap } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { ProblemMessage } from "../components/Problem";
import { useAction } from "../lib/useAction";

/** Where ``next`` leads, if it is a page of this site; else the home page. */
export function safeNext(next: string | null): string {
  if (!next) return "/";
  try {
    const url = new URL(next, window.location.origin);
    return url.origin === window.location.origin ? url.pathname + url.search + url.hash : "/";
  } catch {
    return "/";
  }
}

function useAfterSignIn() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  return () => navigate(safeNext(params.get("next")));
}

export function SignInPage() {
  const { signIn } = useAuth();
  const done = useAfterSignIn();
  const { busy, error, run } = useAction();

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    void run(async () => {
      await signIn(String(form.get("email")), String(form.get("password")));
      done();
    });
  }

  return (
    <section className="narrow">
      <h1>Sign in</h1>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="email">Email</label>
          <input id="email" name="email" type="email" autoComplete="username" required />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
          />
        </div>
        <ProblemMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        New here? <Link to="/signup">Create an account</Link>.
      </p>
    </section>
  );
}

export function SignUpPage() {
  const { signIn } = useAuth();
  const done = useAfterSignIn();
  const { busy, error, run } = useAction();

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email"));
    const password = String(form.get("password"));
    void run(async () => {
      const display_name = String(form.get("display_name"));
      unwrap(await api.POST("/api/v1/auth/signup", { body: { email, password, display_name } }));
      await signIn(email, password);
      done();
    });
  }

  return (
    <section className="narrow">
      <h1>Create an account</h1>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="display_name">Your name</label>
          <input id="display_name" name="display_name" autoComplete="name" required maxLength={100} />
        </div>
        <div className="field">
          <label htmlFor="email">Email</label>
          <input id="email" name="email" type="email" autoComplete="email" required />
        </div>
        <div className="field">
          <label htmlFor="password">Password (at least 10 characters)</label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete="new-password"
            minLength={10}
            required
          />
        </div>
        <ProblemMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
    </section>
  );
}
