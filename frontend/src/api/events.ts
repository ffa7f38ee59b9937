// A submission's live status over Server-Sent Events. EventSource cannot send the bearer
// token, so the stream is read with fetch.

import { fetchEventSource } from "@microsoft/fetch-event-source";

import { authHeaders, type Schemas } from "./client";

export type SubmissionOut = Schemas["SubmissionOut"];

/** Call ``onStatus`` at every change until the verdict; returns a function that stops it. */
export function followSubmission(id: number, onStatus: (s: SubmissionOut) => void): () => void {
  const controller = new AbortController();
  void fetchEventSource(`/api/v1/submissions/${id}/events`, {
    headers: authHeaders(),
    signal: controller.signal,
    openWhenHidden: true,
    onmessage(message) {
      if (message.event !== "status" || !message.data) return;
      const submission = JSON.parse(message.data) as SubmissionOut;
      onStatus(submission);
      if (submission.status === "decided") controller.abort();
    },
    onerror(error) {
      if (controller.signal.aborted) throw error; // stop retrying once done
      // otherwise the library retries with back-off
    },
  }).catch(() => undefined);
  return () => controller.abort();
}
