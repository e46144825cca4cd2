import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { ComfyUnavailableError } from "./errors.ts";
import type { HttpContext } from "./http.ts";

/** A finished answer: its status and its (small) body. */
export interface PieceAnswer {
  status: number;
  body: Buffer;
}

/**
 * Kept-alive connections, closed after 4 s idle: before a server drops them (Node's http server
 * after 5 s, aiohttp after 75 s), so a POST is never written into a socket the server is closing.
 * LIFO reuses the most recent one.
 */
const agentOptions = { keepAlive: true, scheduling: "lifo" as const, timeout: 4_000 };
const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };

/** Answers to an upload or a prompt are small JSON (a refused prompt lists its node errors). */
const maxAnswerBytes = 4 * 1024 * 1024;

/**
 * POSTs a body given as pieces (a multipart head, the image, the tail; or one JSON buffer) over
 * node:http(s), never joined: the image is not copied on its way to the socket, where
 * `fetch` (undici) copied it and streamed it in small chunks (2.5–3.4 ms of CPU per 1 MB image
 * against about 0.4 ms here, bench/RESULTS.md), and even a small JSON POST through undici's fetch
 * cost the gateway a few ms of CPU under the submit load (profile in bench/README.md).
 * Failures and timeouts (covering the whole exchange) become ComfyUnavailableError, like `send`.
 */
export function postPieces(ctx: HttpContext, path: string, pieces: Uint8Array[], contentType: string): Promise<PieceAnswer> {
  const url = new URL(path, ctx.baseUrl.endsWith("/") ? ctx.baseUrl : `${ctx.baseUrl}/`);
  const length = pieces.reduce((sum, piece) => sum + piece.byteLength, 0);
  const headers: Record<string, string | number> = { "content-type": contentType, "content-length": length };
  if (ctx.basicAuth) headers.authorization = `Basic ${ctx.basicAuth}`;
  const https = url.protocol === "https:";
  const options: RequestOptions = { method: "POST", headers, agent: https ? agents.https : agents.http };
  const unavailable = (what: string, cause: unknown) => new ComfyUnavailableError(`ComfyUI POST ${url.pathname}: ${what}`, ctx.baseUrl, { cause });

  return new Promise<PieceAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, answer?: PieceAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(answer!);
    };
    const onAnswer = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let total = 0;
      res.on("data", (chunk: Buffer) => {
        total += chunk.byteLength;
        if (total > maxAnswerBytes) {
          req.destroy();
          return finish(new ComfyUnavailableError(`ComfyUI ${url.pathname}: answer larger than ${maxAnswerBytes} bytes`, ctx.baseUrl, { httpStatus: res.statusCode }));
        }
        chunks.push(chunk);
      });
      res.on("end", () => finish(null, { status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
      res.on("error", (cause) => finish(unavailable("network error", cause)));
      res.on("aborted", () => finish(unavailable("network error", new Error("the answer was cut"))));
    };
    const req: ClientRequest = (https ? httpsRequest : httpRequest)(url, options, onAnswer);
    const timer = setTimeout(() => {
      const cause = Object.assign(new Error(`timed out after ${ctx.timeoutMs} ms`), { name: "TimeoutError" });
      finish(unavailable(`timed out after ${ctx.timeoutMs} ms`, cause));
      req.destroy(cause);
    }, ctx.timeoutMs);
    req.on("error", (cause) => finish(unavailable("network error", cause)));
    // Until the socket is assigned (a tick later, even for a kept-alive one) the pieces are only
    // queued by reference; node:http then flushes headers and pieces with one writev, no copy.
    for (const piece of pieces) req.write(piece);
    req.end();
  });
}

/** Throws ComfyUnavailableError for a non-2xx node:http answer, as ensureOk does for a Response. */
export function ensurePieceOk(ctx: HttpContext, answer: PieceAnswer, path: string): PieceAnswer {
  if (answer.status >= 200 && answer.status < 300) return answer;
  throw new ComfyUnavailableError(`ComfyUI ${path}: HTTP ${answer.status}`, ctx.baseUrl, { httpStatus: answer.status, cause: answer.body.toString("utf8").slice(0, 500) });
}

/** The JSON of a node:http answer; an unreadable body is ComfyUnavailableError, as readJson says. */
export function pieceJson(ctx: HttpContext, answer: PieceAnswer, path: string): unknown {
  try {
    return JSON.parse(answer.body.toString("utf8"));
  } catch (cause) {
    throw new ComfyUnavailableError(`ComfyUI ${path}: unreadable JSON answer`, ctx.baseUrl, { cause, httpStatus: answer.status });
  }
}
