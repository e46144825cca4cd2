import { Hono } from "hono";
import type { AppEnv } from "../middleware/app-env.ts";

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

/** Liveness (the process answers) and readiness (every frontend database answers, storage takes writes). */
export function createHealthRouter() {
  return new Hono<AppEnv>()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", async (c) => {
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
      const databases = Object.fromEntries(checks.map((check) => [check.frontend, check.ok ? "ok" : "unavailable"]));
      const storage = await storageCheck;
      const states = { databases, storage: storage.ok ? "ok" : "unavailable" };
      if (down.length === 0 && storage.ok) return c.json({ status: "ready", ...states });
      const error =
        down.length > 0
          ? { code: "database_unavailable", message: `Database not answering for: ${down.join(", ")}` }
          : { code: "storage_unavailable", message: storage.message ?? "File storage is unavailable" };
      return c.json({ status: "unavailable", ...states, error }, 503);
    });
}
