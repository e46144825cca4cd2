import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./app-env.ts";
import { AppError, type ErrorBody } from "../errors/app-error.ts";
import { isDatabaseUnavailable } from "../errors/database-errors.ts";

function toAppError(error: unknown): AppError | null {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) {
    return new AppError("database_unavailable", "The database is not answering; try again shortly", undefined, { cause: error });
  }
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own body-limit and parse failures.
    const code = error.status === 413 ? "file_too_large" : "bad_request";
    return new AppError(code, error.message || "Bad request");
  }
  return null;
}

/** The one place errors become responses: known ones as the envelope, the rest as a bare 500. */
export function onError(error: Error, c: Context<AppEnv>): Response {
  const requestId = c.get("requestId");
  const known = toAppError(error);
  if (known) {
    if (known.status >= 500) c.get("deps")?.logger.warn(known.message, { requestId, code: known.code, cause: String(known.cause ?? "") });
    const body: ErrorBody = { error: { code: known.code, message: known.message, requestId } };
    if (known.details !== undefined) body.error.details = known.details;
    return c.json(body, known.status);
  }
  c.get("deps")?.logger.error("unexpected error", { requestId, error: error.stack ?? String(error) });
  const body: ErrorBody = { error: { code: "internal", message: "Internal server error", requestId } };
  return c.json(body, 500);
}

export function notFound(c: Context<AppEnv>): Response {
  const body: ErrorBody = { error: { code: "not_found", message: `No route for ${c.req.method} ${c.req.path}`, requestId: c.get("requestId") } };
  return c.json(body, 404);
}
