import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  type ReactNode,
} from "react";

import { api, ApiError, SESSION_EXPIRED, tokenStore, unwrap, type Schemas } from "../api/client";

export type User = Schemas["UserOut"];

interface Auth {
  user: User | null;
  loading: boolean;
  /** The last session ended because the server refused its token (expired or revoked). */
  expired: boolean;
  signIn: (email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queries = useQueryClient();
  const [token, setToken] = useState<string | null>(() => tokenStore.get());
  const [expired, setExpired] = useState(false);
  const me = useQuery({
    queryKey: ["me", token],
    enabled: token !== null,
    queryFn: async () => unwrap(await api.GET("/api/v1/me")),
    retry: false,
  });

  const forget = useCallback(() => {
    tokenStore.clear();
    setToken(null);
    void queries.resetQueries({ predicate: (q) => q.queryKey[0] !== "me" });
  }, [queries]);

  // Any request refused for its token (expired, revoked): the session is over.
  useEffect(() => {
    const onExpired = () => {
      if (!tokenStore.get()) return;
      forget();
      setExpired(true);
    };
    window.addEventListener(SESSION_EXPIRED, onExpired);
    return () => window.removeEventListener(SESSION_EXPIRED, onExpired);
  }, [forget]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      const body = new URLSearchParams({ username: email, password, grant_type: "password" });
      const response = await fetch("/api/v1/auth/token", { method: "POST", body });
      const answer: unknown = await response.json().catch(() => null);
      const data = unwrap({
        data: answer as Schemas["TokenOut"],
        error: response.ok ? undefined : answer,
        response,
      });
      tokenStore.set(data.access_token);
      queries.clear();
      setExpired(false);
      setToken(data.access_token);
    },
    [queries],
  );

  const signOut = useCallback(async () => {
    await api.POST("/api/v1/auth/logout").catch(() => undefined);
    forget();
    setExpired(false);
  }, [forget]);

  const user = token !== null && !(me.error instanceof ApiError) ? (me.data ?? null) : null;
  const value = useMemo<Auth>(
    () => ({ user, loading: token !== null && me.isLoading, expired, signIn, signOut }),
    [user, token, me.isLoading, expired, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
