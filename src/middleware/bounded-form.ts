import type { Context } from "hono";
import type { AppEnv } from "./app-env.ts";
import { AppError } from "../errors/app-error.ts";

/** Largest text part of a submit (`params` is the biggest, at most 64 KB). */
const maxTextPartBytes = 64 * 1024;

function boundaryOf(contentType: string): string | null {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2] ?? null) : null;
}

/** Counts `--boundary` delimiters with a native search: cheap even on a body of 10 MB. */
function countParts(body: Uint8Array, boundary: string): number {
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const needle = Buffer.from(`--${boundary}`);
  let count = 0;
  for (let at = buffer.indexOf(needle); at !== -1; at = buffer.indexOf(needle, at + needle.length)) count++;
  return Math.max(0, count - 1); // the last delimiter closes the body
}

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError("request_timeout", `The upload took longer than ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads a multipart body (already size-bounded) within `timeoutMs`, refuses more than `maxParts`
 * parts before parsing them (1.5 M tiny fields once stalled the event loop for seconds), then
 * parses it and refuses an oversized text part. Hono caches the result for the route's validator.
 */
export async function parseBoundedForm(c: Context<AppEnv>, options: { maxParts: number; timeoutMs: number }): Promise<void> {
  const type = c.req.header("content-type") ?? "";
  const boundary = boundaryOf(type);
  if (!type.startsWith("multipart/form-data") || !boundary) throw new AppError("bad_request", "Send the task as multipart/form-data");
  const body = new Uint8Array(await withDeadline(c.req.arrayBuffer(), options.timeoutMs));
  if (countParts(body, boundary) > options.maxParts) {
    throw new AppError("bad_request", `The form has more than ${options.maxParts} fields`);
  }
  const form = await c.req.parseBody().catch(() => {
    throw new AppError("bad_request", "The multipart body could not be parsed");
  });
  for (const [name, value] of Object.entries(form)) {
    const values = Array.isArray(value) ? value : [value];
    if (values.some((item) => typeof item === "string" && item.length > maxTextPartBytes)) {
      throw new AppError("bad_request", `Field "${name.slice(0, 40)}" is larger than ${maxTextPartBytes} bytes`);
    }
  }
}
