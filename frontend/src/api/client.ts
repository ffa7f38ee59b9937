// The typed API client: paths, bodies and answers come from the OpenAPI document
// (src/api/schema.d.ts is generated from it with `npm run gen:api`).

import createClient, { type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Problem = Schemas["ProblemDetails"];
export type ProblemCause = Schemas["ProblemError"];

const TOKEN_KEY = "bias-bounty.token";

/** The signed-in user's bearer token (kept for the browser tab's session). */
export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

export function authHeaders(): Record<string, string> {
  const token = tokenStore.get();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Dispatched on ``window`` when the server refuses the signed-in user's token. */
export const SESSION_EXPIRED = "bias-bounty:session-expired";

/** Tell the app that the token was refused, if this answer says so. */
export function noticeRefusedToken(status: number, sentToken: boolean): void {
  if (status === 401 && sentToken) window.dispatchEvent(new Event(SESSION_EXPIRED));
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = tokenStore.get();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    noticeRefusedToken(response.status, request.headers.has("Authorization"));
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(auth);

/** An API error as an exception: the problem details, with a human message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail || problem.title);
  }

  /** The causes attached to one field (form input), if any. */
  causesFor(field: string): ProblemCause[] {
    return (this.problem.errors ?? []).filter(
      (e) => e.field === field || (e.location ?? []).includes(field),
    );
  }
}

/** Problem details for an answer that carries none (a proxy's error page, say). */
export function fallbackProblem(status: number, detail: string, instance = ""): Problem {
  return { type: "about:blank", title: "Error", status, detail, instance, request_id: null, errors: null };
}

function asProblem(status: number, body: unknown): Problem {
  if (body && typeof body === "object" && "detail" in body) return body as Problem;
  const detail =
    status >= 500 ? "the server could not answer; try again" : `request failed (${status})`;
  return fallbackProblem(status, detail);
}

/** The data of an openapi-fetch answer, or an ApiError with the problem details. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiError(result.response.status, asProblem(result.response.status, result.error));
  }
  return result.data as T;
}

/** A human message for anything thrown by an API call. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return "the server cannot be reached; check your connection";
  return error instanceof Error ? error.message : String(error);
}
