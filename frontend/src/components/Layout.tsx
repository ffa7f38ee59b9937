import { useEffect } from "react";
import { Link, NavLink, Outlet, ScrollRestoration, useLocation, useNavigate } from "react-router-dom";

import { useAuth } from "../auth/AuthContext";

/** After each navigation: the page's title from its heading, and focus on that heading, so
 * that keyboard and screen-reader users start at the new page's content. */
function usePageFocus() {
  const location = useLocation();
  useEffect(() => {
    let tries = 0;
    const timer = window.setInterval(() => {
      const heading = document.querySelector<HTMLElement>("main h1");
      tries += 1;
      if (heading || tries > 20) window.clearInterval(timer);
      if (!heading) return;
      document.title = `${heading.textContent} · Bias Bounty`;
      heading.tabIndex = -1;
      if (location.key !== "default") heading.focus({ preventScroll: true });
    }, 50);
    return () => window.clearInterval(timer);
  }, [location.pathname, location.key]);
}

export function Layout() {
  const { user, expired, signOut } = useAuth();
  const navigate = useNavigate();
  usePageFocus();
  return (
    <>
      <ScrollRestoration />
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Bias Bounty
        </Link>
        <nav aria-label="Main">
          <NavLink to="/">Rounds</NavLink>
          {user?.role === "organizer" && <NavLink to="/organize">Organize</NavLink>}
          {user && <NavLink to="/keys">API keys</NavLink>}
          {user ? (
            <button
              type="button"
              className="link"
              onClick={async () => {
                await signOut();
                navigate("/");
              }}
            >
              Sign out ({user.display_name})
            </button>
          ) : (
            <>
              <NavLink to="/signin">Sign in</NavLink>
              <NavLink to="/signup">Sign up</NavLink>
            </>
          )}
        </nav>
      </header>
      <main id="main">
        {expired && !user && (
          <p className="notice" role="status">
            Your session has ended. <Link to="/signin">Sign in again</Link> to go on.
          </p>
        )}
        <Outlet />
      </main>
    </>
  );
}

export function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is nothing here. <Link to="/">See the rounds</Link>.
      </p>
    </section>
  );
}

/** Ask to sign in, with a way back here afterwards. */
export function SignInFirst({ what }: { what: string }) {
  const { loading } = useAuth();
  if (loading) return null; // the session is being checked
  const next = encodeURIComponent(window.location.pathname + window.location.search);
  return (
    <p className="notice">
      <Link to={`/signin?next=${next}`}>Sign in</Link> or <Link to="/signup">create an account</Link>{" "}
      to {what}.
    </p>
  );
}
