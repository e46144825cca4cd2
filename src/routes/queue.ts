import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { anyCaller, apiErrors, createRouter, errorResponses, frontendErrors, json } from "../lib/openapi.ts";
import { assertOwner } from "../middleware/auth.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { lengths } from "../schema/columns.ts";
import { taskStatuses } from "../schema/index.ts";

export const queueQuery = z.object({ frontend: z.string(), taskId: z.string().min(1).max(lengths.id) });

/** Where a task stands (the tasks layer's TaskPosition, as the API documents it). */
export const taskPositionSchema = z
  .object({
    taskId: z.string(),
    status: z.enum(taskStatuses),
    running: z.boolean(),
    ahead: z.number().int().min(0).meta({ description: "Tasks before it in its server's queue (0 once running or ended)" }),
  })
  .meta({ id: "TaskPosition" });

const pollQueue = createRoute({
  method: "get",
  path: "/",
  tags: ["Tasks"],
  summary: "Poll a task's place in the queue",
  description: "Upstream `/queue` reads are shared between all pollers of a server.",
  security: anyCaller,
  middleware: [resolveFrontend()],
  request: { query: queueQuery },
  responses: {
    200: json(taskPositionSchema, "Queued with `ahead` tasks before it, running, or ended"),
    ...errorResponses(...apiErrors, ...frontendErrors, "validation_failed", "not_found"),
  },
});

/** GET /api/queue?frontend=&taskId=: the client's poll. */
export function createQueueRouter() {
  return createRouter<AppEnv>().openapi(pollQueue, async (c) => {
    // A row at most 250 ms old, shared by every poll of the task (tasks/poll-rows.ts).
    const task = await c.get("deps").tasks.pollRow(c.get("frontend"), c.req.valid("query").taskId);
    const missing = `No ${c.get("frontend")} task with that id`;
    if (!task) throw new AppError("not_found", missing);
    assertOwner(c, task.userId, missing);
    return c.json(await c.get("deps").tasks.position(c.get("frontend"), task), 200);
  });
}
