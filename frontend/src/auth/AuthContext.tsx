import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useMemo, type ReactNode } from "react";

import { api, tokenStore, unwrap, type Schemas } from "../api/client";

export type User = Schemas["UserOut"];

interface Auth {
  user: User | null;
  loading: boolean;
  signIn: (email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queries = useQueryClient();
  const me = useQuery({
    queryKey: ["me", tokenStore.get()],
    queryFn: async () => (tokenStore.get() ? unwrap(await api.GET("/api/v1/me")) : null),
    retry: false,
  });

  const signIn = useCallback(
    async (email: string, password: string) => {
      const body = new URLSearchParams({ username: email, password, grant_type: "password" });
      const response = await fetch("/api/v1/auth/token", { method: "POST", body });
      const answer = await response.json();
      unwrap({ data: answer, error: response.ok ? undefined : answer, response });
      tokenStore.set(answer.access_token);
      await queries.invalidateQueries();
    },
    [queries],
  );

  const signOut = useCallback(async () => {
    await api.POST("/api/v1/auth/logout").catch(() => undefined);
    tokenStore.clear();
    queries.clear();
  }, [queries]);

  const value = useMemo<Auth>(
    () => ({ user: me.data ?? null, loading: me.isLoading, signIn, signOut }),
    [me.data, me.isLoading, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
