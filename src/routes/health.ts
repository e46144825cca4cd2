import { Hono } from "hono";
import type { AppEnv } from "../middleware/app-env.ts";

const readyTimeoutMs = 3_000;

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  return Promise.race([
    work,
    new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref?.()),
  ]);
}

/** Liveness (the process answers) and readiness (every frontend database answers). */
export function createHealthRouter() {
  return new Hono<AppEnv>()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", async (c) => {
      const { controllers } = c.get("deps");
      const checks = await Promise.all(
        [...controllers].map(async ([frontend, controller]) => {
          try {
            await withTimeout(controller.ready().then(() => controller.ping()), readyTimeoutMs);
            return { frontend, ok: true as const };
          } catch (error) {
            return { frontend, ok: false as const, error: error instanceof Error ? error.message : String(error) };
          }
        }),
      );
      const down = checks.filter((check) => !check.ok).map((check) => check.frontend);
      const databases = Object.fromEntries(checks.map((check) => [check.frontend, check.ok ? "ok" : "unavailable"]));
      if (down.length === 0) return c.json({ status: "ready", databases });
      return c.json(
        {
          status: "unavailable",
          databases,
          error: { code: "database_unavailable", message: `Database not answering for: ${down.join(", ")}` },
        },
        503,
      );
    });
}
