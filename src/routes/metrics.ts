import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { AppDeps } from "../middleware/app-deps.ts";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Prometheus metrics, for operators only: the scraper sends `Authorization: Bearer <METRICS_TOKEN>`
 * or an operator's admin key (ADMIN_KEY or a minted admin key). With neither configured the
 * endpoint stays shut, so it is never public by accident (AUTH=off does not open it).
 */
async function isOperator(auth: AppDeps["auth"], given: string, token: string | undefined): Promise<boolean> {
  if (token && sameSecret(given, token)) return true;
  if (!auth) return false;
  const result = await auth.authenticate(given);
  return result.ok && result.principal.kind === "admin";
}

export function createMetricsRouter(token: string | undefined) {
  return new Hono<AppEnv>().get("/", async (c) => {
    const given = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1];
    if (!given || !(await isOperator(c.get("deps").auth, given, token))) {
      throw new AppError("unauthorized", "Metrics are for operators: send Authorization: Bearer <METRICS_TOKEN or admin key>");
    }
    const { body, contentType } = await c.get("deps").metrics.render();
    return c.body(body, 200, { "Content-Type": contentType, "Cache-Control": "no-store" });
  });
}
