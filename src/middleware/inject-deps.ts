import type { MiddlewareHandler } from "hono";
import type { AppDeps } from "./app-deps.ts";
import type { AppEnv } from "./app-env.ts";

/** Puts the injected dependencies on the context, so routes never import singletons. */
export function injectDeps(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async function injectDepsMiddleware(c, next) {
    c.set("deps", deps);
    await next();
  };
}
