import { ComfyUnavailableError } from "./errors.ts";

/** The part of `fetch` the client uses (tests wrap it; `typeof fetch` also carries Bun-only members). */
export type FetchLike = (input: URL, init?: RequestInit) => Promise<Response>;

/** Options shared by every call to one ComfyUI server. */
export interface HttpContext {
  baseUrl: string;
  timeoutMs: number;
  fetch: FetchLike;
  /** Base64 `user:pass` for servers behind Basic auth (credentials in COMFY_SERVERS). */
  basicAuth?: string;
}

/**
 * Sends one request with a timeout. Network failures and timeouts become ComfyUnavailableError;
 * the raw Response is returned for the caller to judge its status.
 */
export async function send(ctx: HttpContext, path: string, init: RequestInit = {}): Promise<Response> {
  const url = new URL(path, ctx.baseUrl.endsWith("/") ? ctx.baseUrl : `${ctx.baseUrl}/`);
  try {
    // ComfyUI never redirects its API; refusing redirects also spares undici a copy of every upload
    // body it would otherwise keep to replay (about 1 ms of CPU per 1 MB image, bench/RESULTS.md).
    const headers = new Headers(init.headers);
    if (ctx.basicAuth) headers.set("authorization", `Basic ${ctx.basicAuth}`);
    return await ctx.fetch(url, { redirect: "error", ...init, headers, signal: AbortSignal.timeout(ctx.timeoutMs) });
  } catch (cause) {
    const timedOut = cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError");
    const what = timedOut ? `timed out after ${ctx.timeoutMs} ms` : "network error";
    throw new ComfyUnavailableError(`ComfyUI ${init.method ?? "GET"} ${url.pathname}: ${what}`, ctx.baseUrl, { cause });
  }
}

/** Reads a body as JSON, turning a broken or cut body into ComfyUnavailableError. */
export async function readJson(ctx: HttpContext, res: Response, path: string): Promise<unknown> {
  try {
    return await res.json();
  } catch (cause) {
    throw new ComfyUnavailableError(`ComfyUI ${path}: unreadable JSON answer`, ctx.baseUrl, {
      cause,
      httpStatus: res.status,
    });
  }
}

/** Throws ComfyUnavailableError for any non-2xx status (after draining the body). */
export async function ensureOk(ctx: HttpContext, res: Response, path: string): Promise<void> {
  if (res.ok) return;
  const text = await res.text().catch(() => "");
  throw new ComfyUnavailableError(`ComfyUI ${path}: HTTP ${res.status}`, ctx.baseUrl, {
    httpStatus: res.status,
    cause: text.slice(0, 500),
  });
}

/** Validates an answer with a zod schema; a mismatch means a server we cannot talk to. */
export function parseWith<T>(
  ctx: HttpContext,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: unknown } },
  value: unknown,
  path: string,
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ComfyUnavailableError(`ComfyUI ${path}: unexpected answer shape`, ctx.baseUrl, { cause: result.error });
}

/**
 * Reads a body of at most `maxBytes` (from Content-Length when given, else while streaming), so a
 * huge or endless answer cannot fill the gateway's memory; more becomes ComfyUnavailableError.
 */
export async function readBounded(ctx: HttpContext, res: Response, maxBytes: number, path: string): Promise<Uint8Array> {
  const tooLarge = () => new ComfyUnavailableError(`ComfyUI ${path}: answer larger than ${maxBytes} bytes`, ctx.baseUrl, { httpStatus: res.status });
  if (Number(res.headers.get("content-length") ?? 0) > maxBytes) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  try {
    for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
      total += read.value.byteLength;
      if (total > maxBytes) {
        await reader?.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(read.value);
    }
  } catch (cause) {
    if (cause instanceof ComfyUnavailableError) throw cause;
    throw new ComfyUnavailableError(`ComfyUI ${path}: the answer was cut`, ctx.baseUrl, { cause, httpStatus: res.status });
  }
  return chunks.length === 1 ? chunks[0]! : new Uint8Array(Buffer.concat(chunks));
}
