import { timingSafeEqual } from "node:crypto";
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps } from "../middleware/app-deps.ts";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { anyOf, createRouter, errorResponses } from "../lib/openapi.ts";

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

const metricsRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["Operations"],
  summary: "Prometheus metrics (operators)",
  description: "Shut unless METRICS_TOKEN or an admin key is configured; AUTH=off does not open it.",
  security: anyOf("metricsToken", "adminKey"),
  responses: {
    200: { description: "Prometheus text exposition format", content: { "text/plain": { schema: z.string() } } },
    ...errorResponses("unauthorized"),
  },
});

export function createMetricsRouter(token: string | undefined) {
  return createRouter<AppEnv>().openapi(metricsRoute, async (c) => {
    const given = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1];
    if (!given || !(await isOperator(c.get("deps").auth, given, token))) {
      throw new AppError("unauthorized", "Metrics are for operators: send Authorization: Bearer <METRICS_TOKEN or admin key>");
    }
    const { body, contentType } = await c.get("deps").metrics.render();
    return c.text(body, 200, { "Content-Type": contentType, "Cache-Control": "no-store" });
  });
}
