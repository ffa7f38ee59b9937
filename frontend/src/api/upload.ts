// Multipart uploads with progress: fetch cannot report upload progress, XMLHttpRequest can.

import { ApiError, authHeaders, fallbackProblem, noticeRefusedToken, type Problem } from "./client";

export interface UploadProgress {
  loaded: number;
  total: number;
}

/** POST ``form`` to ``url``; resolves with the JSON answer, rejects with an ApiError. */
export function upload<T>(
  url: string,
  form: FormData,
  onProgress?: (progress: UploadProgress) => void,
  headers: Record<string, string> = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    for (const [name, value] of Object.entries({ ...authHeaders(), ...headers })) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress?.({ loaded: event.loaded, total: event.total });
    };
    xhr.onload = () => {
      noticeRefusedToken(xhr.status, "Authorization" in authHeaders());
      let body: unknown = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body as T);
      } else {
        const problem =
          (body as Problem | null) ??
          fallbackProblem(xhr.status, `the upload failed (${xhr.status})`, url);
        reject(new ApiError(xhr.status, problem));
      }
    };
    xhr.onerror = () => reject(new TypeError("network error"));
    xhr.send(form);
  });
}
