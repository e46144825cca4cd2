import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { createRouter, json } from "../lib/openapi.ts";

const readyTimeoutMs = 3_000;

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  return Promise.race([
    work,
    new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref?.()),
  ]);
}

async function storageState(check: () => Promise<void>): Promise<{ ok: boolean; message?: string }> {
  try {
    await withTimeout(check(), readyTimeoutMs);
    return { ok: true };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

const state = z.enum(["ok", "unavailable"]);
const readiness = z.object({
  status: z.enum(["ready", "unavailable"]),
  databases: z.record(z.string(), state).meta({ description: "Each enabled frontend's database" }),
  storage: state,
  error: z.object({ code: z.enum(["database_unavailable", "storage_unavailable"]), message: z.string() }).optional(),
});

const liveness = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["Health"],
  summary: "The process is alive",
  security: [],
  responses: { 200: json(z.object({ status: z.literal("ok") }), "Alive") },
});

const readinessRoute = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["Health"],
  summary: "Every frontend database answers and storage takes a write",
  security: [],
  responses: { 200: json(readiness, "Ready"), 503: json(readiness, "Not ready: `error` names what is down") },
});

/** Liveness (the process answers) and readiness (every frontend database answers, storage takes writes). */
export function createHealthRouter() {
  return createRouter<AppEnv>()
    .openapi(liveness, (c) => c.json({ status: "ok" as const }, 200))
    .openapi(readinessRoute, async (c) => {
      const { controllers, storageReady } = c.get("deps");
      const storageCheck = storageState(storageReady);
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
      const databases = Object.fromEntries(checks.map((check) => [check.frontend, check.ok ? ("ok" as const) : ("unavailable" as const)]));
      const storage = await storageCheck;
      const states = { databases, storage: storage.ok ? ("ok" as const) : ("unavailable" as const) };
      if (down.length === 0 && storage.ok) return c.json({ status: "ready" as const, ...states }, 200);
      const error =
        down.length > 0
          ? { code: "database_unavailable" as const, message: `Database not answering for: ${down.join(", ")}` }
          : { code: "storage_unavailable" as const, message: storage.message ?? "File storage is unavailable" };
      return c.json({ status: "unavailable" as const, ...states, error }, 503);
    });
}
