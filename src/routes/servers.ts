import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { anyCaller, apiErrors, createRouter, errorResponses, json } from "../lib/openapi.ts";
import { isAdmin } from "../middleware/auth.ts";
import { serverStateSchema, serverStatusSchema } from "../pool/schemas.ts";

export const serversQuery = z.object({ refresh: z.enum(["0", "1", "true", "false"]).optional().meta({ description: "Probe every server first (admin key only)" }) });

const summarySchema = z.object({ total: z.number().int(), available: z.number().int() });

const serversAnswer = z.union([
  z.object({ summary: summarySchema, servers: z.array(serverStatusSchema) }).meta({ id: "ServersForOperator", description: "With the admin key: every detail" }),
  z.object({ summary: summarySchema, servers: z.array(z.object({ id: z.string(), state: serverStateSchema })) }).meta({ id: "Servers", description: "For everyone else: each server's public name and state" }),
]);

const listServers = createRoute({
  method: "get",
  path: "/",
  tags: ["Servers"],
  summary: "Which ComfyUI servers can take work now",
  description: "The operator (admin key) gets every detail and `?refresh=1`; everyone else each server's configured name and state.",
  security: anyCaller,
  request: { query: serversQuery },
  responses: { 200: json(serversAnswer, "The pool"), ...errorResponses(...apiErrors, "validation_failed", "forbidden") },
});

/** GET /api/servers: which ComfyUI servers can take work now. */
export function createServersRouter() {
  return createRouter<AppEnv>().openapi(listServers, async (c) => {
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
    if (admin) return c.json({ summary, servers: snapshot.servers }, 200);
    // Clients learn what they need to decide whether to submit: never URLs, versions or hardware.
    return c.json({ summary, servers: snapshot.servers.map((server) => ({ id: pool.publicName(server.id), state: server.state })) }, 200);
  });
}
