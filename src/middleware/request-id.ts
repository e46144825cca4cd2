import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";
import { randomId } from "../lib/ids.ts";

const acceptable = /^[A-Za-z0-9._-]{1,64}$/;

/** Gives every request an id (the caller's X-Request-Id when sane) for logs and error bodies. */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestIdMiddleware(c, next) {
    const incoming = c.req.header("x-request-id");
    const id = incoming && acceptable.test(incoming) ? incoming : randomId(9);
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    await next();
  };
}
