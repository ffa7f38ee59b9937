import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, unwrap, type Schemas } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { SignInFirst } from "../components/Layout";
import { EmptyState, ProblemMessage } from "../components/Problem";
import { formatDate } from "../lib/format";

export function ApiKeysPage() {
  const { user } = useAuth();
  const queries = useQueryClient();
  const keys = useQuery({
    queryKey: ["api-keys", user?.id],
    enabled: user !== null,
    queryFn: async () => unwrap(await api.GET("/api/v1/me/api-keys")),
  });
  const [created, setCreated] = useState<Schemas["ApiKeyCreated"] | null>(null);
  const [copied, setCopied] = useState(false);
  const create = useMutation({
    mutationFn: async (body: Schemas["ApiKeyCreate"]) =>
      unwrap(await api.POST("/api/v1/me/api-keys", { body })),
    onSuccess: (key) => {
      setCreated(key);
      setCopied(false);
      void queries.invalidateQueries({ queryKey: ["api-keys"] });
    },
  });
  const revoke = useMutation({
    mutationFn: async (id: number) =>
      unwrap(await api.DELETE("/api/v1/me/api-keys/{key_id}", { params: { path: { key_id: id } } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["api-keys"] }),
  });

  if (!user) return <SignInFirst what="manage API keys" />;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const days = Number(form.get("days"));
    create.mutate({ name: String(form.get("name")), expires_in_days: days > 0 ? days : null });
  }

  return (
    <section>
      <h1>API keys</h1>
      <p className="lead">
        Keys let scripts (the <code>bounty</code> command, the Python SDK, any HTTP client) act as
        you: send <code>Authorization: Bearer &lt;key&gt;</code>.
      </p>
      <form onSubmit={submit} className="inline">
        <div className="field">
          <label htmlFor="key-name">Name</label>
          <input id="key-name" name="name" required maxLength={100} placeholder="laptop" />
        </div>
        <div className="field">
          <label htmlFor="key-days">Expires after (days, empty for never)</label>
          <input id="key-days" name="days" type="number" min={1} max={3650} />
        </div>
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      <ProblemMessage error={create.error ?? revoke.error} />
      {created && (
        <div className="notice">
          <p>
            Your new key <strong>{created.name}</strong>. Copy it now: it is shown only once.
          </p>
          <p>
            <code data-testid="new-key">{created.key}</code>{" "}
            <button
              type="button"
              onClick={async () => {
                try {
                  await navigator.clipboard.writeText(created.key);
                  setCopied(true);
                } catch {
                  window.getSelection()?.selectAllChildren(document.querySelector("[data-testid=new-key]")!);
                }
              }}
            >
              {copied ? "Copied" : "Copy"}
            </button>
          </p>
        </div>
      )}
      {keys.data?.length === 0 && <EmptyState title="No keys yet" />}
      {keys.data && keys.data.length > 0 && (
        <table>
          <caption>Your keys</caption>
          <thead>
            <tr>
              <th scope="col">name</th>
              <th scope="col">starts with</th>
              <th scope="col">created</th>
              <th scope="col">last used</th>
              <th scope="col">expires</th>
              <th scope="col"></th>
            </tr>
          </thead>
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.id}>
                <th scope="row">{k.name}</th>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{formatDate(k.created_at)}</td>
                <td>{formatDate(k.last_used_at)}</td>
                <td>{k.expires_at ? formatDate(k.expires_at) : "never"}</td>
                <td>
                  {k.revoked_at ? (
                    "revoked"
                  ) : (
                    <button
                      type="button"
                      onClick={() => {
                        if (window.confirm(`Revoke the key "${k.name}"? Scripts using it stop working.`))
                          revoke.mutate(k.id);
                      }}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
