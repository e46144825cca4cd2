import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { validate } from "../lib/validate.ts";
import { isAdmin } from "../middleware/auth.ts";

export const serversQuery = z.object({ refresh: z.enum(["0", "1", "true", "false"]).optional() });

/**
 * GET /api/servers: which ComfyUI servers can take work now. The operator (admin key) gets every
 * detail and `?refresh=1`; everyone else each server's configured name and state.
 */
export function createServersRouter() {
  return new Hono<AppEnv>().get("/", validate("query", serversQuery), async (c) => {
    const { pool } = c.get("deps");
    const refresh = c.req.valid("query").refresh;
    const admin = isAdmin(c);
    if (refresh === "1" || refresh === "true") {
      // A refresh probes every GPU server: the operator's call, not a client's.
      if (!admin) throw new AppError("forbidden", "refresh needs the admin key");
      await pool.refresh();
    }
    const snapshot = pool.snapshot();
    const summary = { total: snapshot.total, available: snapshot.available };
    if (admin) return c.json({ summary, servers: snapshot.servers });
    // Clients learn what they need to decide whether to submit: never URLs, versions or hardware.
    return c.json({ summary, servers: snapshot.servers.map((server) => ({ id: pool.publicName(server.id), state: server.state })) });
  });
}
