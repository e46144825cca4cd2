import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "./app-env.ts";

/**
 * The route pattern that answered (`/api/tasks/:id`), never the raw path: ids and query strings
 * (which may carry tokens) stay out of logs and metric labels, and label sets stay bounded.
 */
function routePattern(c: Context<AppEnv>): string {
  const handlers = matchedRoutes(c).filter((route) => route.method !== "ALL");
  return handlers.at(-1)?.path ?? "(unmatched)";
}

/**
 * One access-log line and one duration sample per request: method, route pattern, status,
 * duration, request id and frontend. Comes right after the request id, so it sees every answer,
 * the error envelopes included.
 */
export function accessLog(): MiddlewareHandler<AppEnv> {
  return async function accessLogMiddleware(c, next) {
    const startedAt = performance.now();
    await next();
    const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
    const deps = c.get("deps");
    const route = routePattern(c);
    const status = c.res.status;
    deps.metrics.httpDuration.observe({ method: c.req.method, route, status: String(status) }, durationMs / 1000);
    const frontend = c.get("frontend");
    deps.logger.info("request", {
      method: c.req.method,
      route,
      status,
      durationMs,
      requestId: c.get("requestId"),
      ...(frontend ? { frontend } : {}),
    });
  };
}
