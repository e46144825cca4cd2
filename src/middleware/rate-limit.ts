import type { Context, MiddlewareHandler } from "hono";
import { RateLimiterRes } from "rate-limiter-flexible";
import type { AppEnv } from "./app-env.ts";
import { AppError } from "../errors/app-error.ts";
import type { RateBudget } from "../limits/rate-limits.ts";
import { clientAddress } from "./client-address.ts";
import { principalLabel, type Principal } from "../auth/principal.ts";

/** Which budget a request spends: submits, the client's polls, or everything else. */
export function budgetOf(c: Context<AppEnv>): RateBudget {
  const { method, path } = c.req;
  if (method === "POST" && path === "/api/tasks") return "submits";
  if (method === "GET" && (path === "/api/queue" || /^\/api\/tasks\/[^/]+$/.test(path))) return "polls";
  return "other";
}

/**
 * Who a request's budget belongs to: the authenticated principal (`key:<frontend>:<keyId>` for a
 * frontend key, `user:<frontend>:<userId>` for a user token), so one tenant cannot spend another's
 * budget from a shared address. The operator (admin key, or AUTH=off) and whatever acts without a
 * valid credential spend the client address's budget (behind TRUSTED_PROXIES only, from
 * X-Forwarded-For): a refused credential is limited per address, and the operator is not a tenant.
 */
export function rateKey(c: Context<AppEnv>): string {
  const principal = c.get("principal") as Principal | undefined;
  if (principal && principal.kind !== "admin") return principalLabel(principal);
  const { getConnInfo, limits } = c.get("deps");
  return `addr:${clientAddress(c, getConnInfo, limits.trustedProxies)}`;
}

function setHeaders(c: Context<AppEnv>, points: number, windowSeconds: number, res: RateLimiterRes): void {
  if (c.req.path === "/api/ws") return; // no header-changing middleware on the upgrade
  const reset = Math.max(0, Math.ceil(res.msBeforeNext / 1000));
  // draft-ietf-httpapi-ratelimit-headers (draft 7 fields, as express-rate-limit's "draft-7").
  c.header("RateLimit-Policy", `${points};w=${windowSeconds}`);
  c.header("RateLimit", `limit=${points}, remaining=${Math.max(0, res.remainingPoints)}, reset=${reset}`);
}

/**
 * Spends one point of the request's budget; over it, 429 `rate_limited` with Retry-After and the
 * RateLimit headers. A store failure (Redis away with no insurance) lets the request through.
 */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async function rateLimitMiddleware(c, next) {
    const { rateLimits, logger } = c.get("deps");
    const budget = budgetOf(c);
    const { points, windowSeconds } = rateLimits.policy[budget];
    let res: RateLimiterRes;
    try {
      res = await rateLimits.limiters[budget].consume(rateKey(c));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        logger.warn("rate limiter unavailable; request let through", { error: String(rejection) });
        return next();
      }
      setHeaders(c, points, windowSeconds, rejection);
      const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new AppError("rate_limited", `Too many requests (${budget}: ${points} per ${windowSeconds} s); retry in ${seconds} s`, { budget }, { retryAfterSeconds: seconds });
    }
    setHeaders(c, points, windowSeconds, res);
    await next();
  };
}
