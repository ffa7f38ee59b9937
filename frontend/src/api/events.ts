// A submission's live status over Server-Sent Events. EventSource cannot send the bearer
// token, so the stream is read with fetch; it reconnects (with back-off) until the verdict.

import { fetchEventSource, type EventSourceMessage } from "@microsoft/fetch-event-source";

import { authHeaders, noticeRefusedToken, type Schemas } from "./client";

export type SubmissionOut = Schemas["SubmissionOut"];

class StreamRefused extends Error {}
class StreamClosed extends Error {}

const MAX_BACKOFF_MS = 30_000;

/** Call ``onStatus`` at every change until the verdict; returns a function that stops it. */
export function followSubmission(id: number, onStatus: (s: SubmissionOut) => void): () => void {
  const controller = new AbortController();
  let failures = 0;
  let decided = false;
  void fetchEventSource(`/api/v1/submissions/${id}/events`, {
    headers: authHeaders(),
    signal: controller.signal,
    async onopen(response) {
      if (response.ok) {
        failures = 0;
        return;
      }
      noticeRefusedToken(response.status, "Authorization" in authHeaders());
      if (response.status >= 400 && response.status < 500) throw new StreamRefused();
      throw new StreamClosed(); // 5xx: try again
    },
    onmessage(message: EventSourceMessage) {
      if (message.event !== "status" || !message.data) return;
      const submission = JSON.parse(message.data) as SubmissionOut;
      onStatus(submission);
      if (submission.status === "decided") {
        decided = true;
        controller.abort();
      }
    },
    onclose() {
      if (!decided) throw new StreamClosed(); // the server went away before the verdict
    },
    onerror(error: unknown) {
      if (error instanceof StreamRefused || decided) throw error; // stop for good
      failures += 1;
      return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(failures, 5));
    },
  }).catch(() => undefined);
  return () => controller.abort();
}
