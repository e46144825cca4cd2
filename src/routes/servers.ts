import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { validate } from "../lib/validate.ts";

export const serversQuery = z.object({ refresh: z.enum(["0", "1", "true", "false"]).optional() });

/** GET /api/servers: which ComfyUI servers can take work now, and why the others cannot. */
export function createServersRouter() {
  return new Hono<AppEnv>().get("/", validate("query", serversQuery), async (c) => {
    const { pool } = c.get("deps");
    const refresh = c.req.valid("query").refresh;
    if (refresh === "1" || refresh === "true") await pool.refresh();
    const snapshot = pool.snapshot();
    return c.json({ summary: { total: snapshot.total, available: snapshot.available }, servers: snapshot.servers });
  });
}
