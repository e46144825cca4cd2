import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";

/**
 * POSTs `body` once and resolves the answer's status. No redirect is followed (a 3xx is an answer
 * like any other, so retried), the answer's body is never read (the connection is closed at the
 * status line: a receiver cannot hold us with an endless body), and the exchange up to the status
 * line is bounded by `timeoutMs`; `signal` aborts it early (shutdown).
 */
export function postOnce(
  url: URL,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; lookup: LookupFunction; signal: AbortSignal },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? https.request : http.request;
    const request = send(url, {
      method: "POST",
      headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
      lookup: options.lookup,
      signal: options.signal,
      agent: false,
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    request.once("response", (response) => {
      clearTimeout(timer);
      response.once("error", () => undefined);
      response.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body);
  });
}
