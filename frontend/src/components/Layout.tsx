import { Link, NavLink, Outlet, useNavigate } from "react-router-dom";

import { useAuth } from "../auth/AuthContext";

export function Layout() {
  const { user, signOut } = useAuth();
  const navigate = useNavigate();
  return (
    <>
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
  const next = encodeURIComponent(window.location.pathname);
  return (
    <p className="notice">
      <Link to={`/signin?next=${next}`}>Sign in</Link> or <Link to="/signup">create an account</Link>{" "}
      to {what}.
    </p>
  );
}
