import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { validate } from "../lib/validate.ts";
import { assertOwner } from "../middleware/auth.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { lengths } from "../schema/columns.ts";

export const queueQuery = z.object({ frontend: z.string(), taskId: z.string().min(1).max(lengths.id) });

/**
 * GET /api/queue?frontend=&taskId=: the client's poll. Answers `{ taskId, status, running, ahead }`;
 * upstream /queue reads are shared between all pollers of a server.
 */
export function createQueueRouter() {
  return new Hono<AppEnv>().get("/", resolveFrontend(), validate("query", queueQuery), async (c) => {
    const task = await c.get("db").getTask(c.req.valid("query").taskId);
    const missing = `No ${c.get("frontend")} task with that id`;
    if (!task) throw new AppError("not_found", missing);
    assertOwner(c, task.userId, missing);
    return c.json(await c.get("deps").tasks.position(c.get("frontend"), task));
  });
}
