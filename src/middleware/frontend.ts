import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";
import { bodilessMethods } from "./body-bounds.ts";
import { isKnownFrontend } from "../controllers/db-controller-map.ts";
import { AppError } from "../errors/app-error.ts";
import { isDatabaseUnavailable } from "../errors/database-errors.ts";
import { authorizeFrontend } from "./auth.ts";

/** Reads `frontend` from the query string, a JSON body or a form field (all arrive as strings). */
async function readFrontendName(c: Context<AppEnv>): Promise<unknown> {
  const fromQuery = c.req.query("frontend");
  // GET/HEAD/DELETE: the body is never read, whatever it holds (bodies are bounded in body-bounds.ts).
  if (fromQuery !== undefined || bodilessMethods.has(c.req.method)) return fromQuery;
  const type = c.req.header("content-type") ?? "";
  if (type.startsWith("application/json")) {
    const body: unknown = await c.req.json().catch(() => {
      throw new AppError("bad_request", "The body is not valid JSON");
    });
    return typeof body === "object" && body !== null ? (body as Record<string, unknown>).frontend : undefined;
  }
  if (type.startsWith("multipart/form-data") || type.startsWith("application/x-www-form-urlencoded")) {
    const form = await c.req.parseBody().catch(() => {
      throw new AppError("bad_request", "The form body could not be parsed");
    });
    return form.frontend;
  }
  return undefined;
}

/**
 * Resolves the request's frontend to its DBController and makes sure that database is ready.
 * Hono caches the parsed body, so the route's own validator reads it again for free.
 */
export function resolveFrontend(): MiddlewareHandler<AppEnv> {
  return async function resolveFrontendMiddleware(c, next) {
    const { controllers } = c.get("deps");
    const enabled = [...controllers.keys()].join(", ");
    const name = await readFrontendName(c);
    if (typeof name !== "string" || name === "") {
      throw new AppError("unknown_frontend", `Missing "frontend"; one of: ${enabled}`);
    }
    const controller = isKnownFrontend(name) ? controllers.get(name) : undefined;
    if (!controller || !isKnownFrontend(name)) {
      throw new AppError("unknown_frontend", `Unknown frontend "${name.slice(0, 40)}"; one of: ${enabled}`);
    }
    authorizeFrontend(c, name);
    try {
      await controller.ready();
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      throw new AppError("database_unavailable", `The ${name} database is not answering; try again shortly`, undefined, { cause: error });
    }
    c.set("frontend", name);
    c.set("db", controller);
    await next();
  };
}
