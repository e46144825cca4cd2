import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Prometheus metrics, for operators only: the scraper sends `Authorization: Bearer <METRICS_TOKEN>`.
 * With no token configured the endpoint stays shut, so it is never public by accident.
 */
export function createMetricsRouter(token: string | undefined) {
  return new Hono<AppEnv>().get("/", async (c) => {
    const given = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1];
    if (!token || !given || !sameSecret(given, token)) {
      throw new AppError("unauthorized", "Metrics are for operators: send Authorization: Bearer <METRICS_TOKEN>");
    }
    const { body, contentType } = await c.get("deps").metrics.render();
    return c.body(body, 200, { "Content-Type": contentType, "Cache-Control": "no-store" });
  });
}
