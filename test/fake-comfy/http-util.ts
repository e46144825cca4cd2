import type { IncomingMessage, ServerResponse } from "node:http";
import type { CannedAnswer } from "./options.ts";

/** Reads a whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parses a JSON body; null when empty or invalid (ComfyUI answers those with its own errors). */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return null;
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return null;
  }
}

/** Sends JSON with aiohttp's content type. */
export function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Sends a status with an empty body (what /queue POST and /interrupt answer). */
export function empty(res: ServerResponse, status = 200): void {
  res.writeHead(status, { "content-length": 0 });
  res.end();
}

/** Sends a canned answer as given (a null-body status such as 204 gets no body). */
export function answer(res: ServerResponse, canned: CannedAnswer): void {
  const headers: Record<string, string | number> = canned.contentType === undefined ? {} : { "content-type": canned.contentType };
  if (canned.status === 204 || canned.status === 304) {
    res.writeHead(canned.status, headers);
    return void res.end();
  }
  res.writeHead(canned.status, { ...headers, "content-length": Buffer.byteLength(canned.body) });
  res.end(canned.body);
}

/** Sends plain text (aiohttp's default 404/500 bodies). */
export function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Parses a multipart body with the runtime's own Request (same on Node and Bun). */
export async function parseMultipart(req: IncomingMessage, body: Buffer): Promise<FormData | null> {
  const contentType = req.headers["content-type"] ?? "";
  if (!contentType.startsWith("multipart/form-data")) return null;
  try {
    return await new Request("http://fake/", { method: "POST", headers: { "content-type": contentType }, body: new Uint8Array(body) }).formData();
  } catch {
    return null;
  }
}
