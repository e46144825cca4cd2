import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { wrapTime } from "hono/timing";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { taskKey } from "../realtime/task-key.ts";
import { anyCaller, apiErrors, createRouter, errorResponses, frontendErrors, json } from "../lib/openapi.ts";
import { assertOwner, tokenUserId } from "../middleware/auth.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { lengths } from "../schema/columns.ts";
import { publicRefs } from "../views/public-refs.ts";
import { submittedTaskView, taskView, taskViewSchema } from "../views/task-view.ts";
import { checkTask, submitTaskRoute } from "./task-form.ts";

export const taskIdParam = z.object({ id: z.string().min(1).max(lengths.id) });

export const listTasksQuery = z.object({
  frontend: z.string(),
  userId: z.string().min(1).max(lengths.id),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

const frontendQuery = z.object({ frontend: z.string() });

/** The task's row, when the caller may see it; someone else's task answers 404 like a missing one. */
async function ownTask(c: Context<AppEnv>, id: string) {
  const task = await c.get("db").getTask(id);
  const missing = `No ${c.get("frontend")} task with that id`;
  if (!task) throw new AppError("not_found", missing);
  assertOwner(c, task.userId, missing);
  return task;
}

/** Who a submit runs as: a user token's own user (a different userId is refused), else the form's. */
function submitterId(tokenUser: string | undefined, formUser: string | undefined): string {
  if (tokenUser === undefined) {
    if (formUser === undefined) throw new AppError("validation_failed", "userId: required with a frontend key");
    return formUser;
  }
  if (formUser !== undefined && formUser !== tokenUser) throw new AppError("forbidden", "userId: a user token submits only as its own user");
  return tokenUser;
}

const listTasks = createRoute({
  method: "get",
  path: "/",
  tags: ["Tasks"],
  summary: "A user's tasks, newest first",
  description: "Each item as `GET /api/tasks/{id}` shows it; `nextCursor` (null on the last page) pages on.",
  security: anyCaller,
  middleware: [resolveFrontend()],
  request: { query: listTasksQuery },
  responses: {
    200: json(z.object({ items: z.array(taskViewSchema), nextCursor: z.string().nullable() }), "One page of tasks"),
    ...errorResponses(...apiErrors, ...frontendErrors, "validation_failed", "not_found"),
  },
});

const taskErrors = errorResponses(...apiErrors, ...frontendErrors, "validation_failed", "not_found");

const getTask = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["Tasks"],
  summary: "A task: its status, progress, outputs or error",
  security: anyCaller,
  middleware: [resolveFrontend()],
  request: { params: taskIdParam, query: frontendQuery },
  responses: { 200: json(z.object({ task: taskViewSchema }), "The task"), ...taskErrors },
});

const cancelTask = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["Tasks"],
  summary: "Cancel a task",
  description: "A queued task leaves ComfyUI's queue, a running one is interrupted; an ended task is answered as it is.",
  security: anyCaller,
  middleware: [resolveFrontend()],
  request: { params: taskIdParam, query: frontendQuery },
  responses: { 200: json(z.object({ task: taskViewSchema }), "The task after the cancel"), ...taskErrors, ...errorResponses("comfy_unavailable") },
});

/**
 * POST /api/tasks (multipart submit), GET /api/tasks (a user's tasks, newest first,
 * cursor-paginated), GET /api/tasks/:id, DELETE /api/tasks/:id (cancel).
 */
export function createTasksRouter(maxUploadBytes: number) {
  return createRouter<AppEnv>()
    .openapi(listTasks, async (c) => {
      const { userId, limit, cursor } = c.req.valid("query");
      const db = c.get("db");
      const missing = `No ${c.get("frontend")} user with that id`;
      assertOwner(c, userId, missing);
      if (!(await db.getUser(userId))) throw new AppError("not_found", missing);
      const page = await db.listTasks(userId, { limit, cursor });
      if (!page) throw new AppError("validation_failed", "cursor: not a cursor this API returned");
      const deps = c.get("deps");
      const refs = publicRefs(deps);
      const items = page.items.map((task) => taskView(task, deps.hub.latestProgress(taskKey(c.get("frontend"), task.id)), refs));
      return c.json({ items, nextCursor: page.nextCursor }, 200);
    })
    .openapi(submitTaskRoute(maxUploadBytes), async (c) => {
      const form = c.req.valid("form");
      const userId = submitterId(tokenUserId(c), form.userId);
      // A priority is the frontend's decision about its users, so a user token may not set one.
      if (form.priority !== undefined && tokenUserId(c) !== undefined) throw new AppError("forbidden", "priority: set by the frontend's key, not by a user token");
      const db = c.get("db");
      const frontend = c.get("frontend");
      const { tasks, admission } = c.get("deps");
      const time = <T>(stage: string, work: () => Promise<T>) => wrapTime(c, stage, work());
      // The user lookup (one round trip: the user, its unfinished count and its queue round) runs
      // while the upload is checked (CPU), and a checked image starts on its way to storage at
      // once (StagedInput). A refused upload is still reported before an unknown user, as when
      // they ran one after the other. All are awaited before a failure is thrown, so no timer
      // ends after the answer.
      const checking = wrapTime(c, "check", checkTask(c, form));
      const staging = checking.then((checked) => (checked.image ? tasks.stageInput(frontend, checked.image, time) : null));
      const [found, check, staged] = await Promise.allSettled([wrapTime(c, "user", db.submitterFacts(userId)), checking, staging]);
      const input = staged.status === "fulfilled" ? staged.value : null;
      let outcome: Awaited<ReturnType<typeof tasks.submit>>;
      try {
        if (check.status === "rejected") throw check.reason;
        if (found.status === "rejected") throw found.reason;
        const facts = found.value;
        if (!facts) throw new AppError("not_found", `No ${frontend} user with that id`);
        const submit = () => tasks.submit({ frontend, userId, ...check.value, queueRound: facts.queueRound, staged: input, time });
        // A retry of a submit already made is answered as before, never refused by the caps it filled.
        const earlier = check.value.idempotencyKey ? await db.findTaskByIdempotencyKey(userId, check.value.idempotencyKey) : undefined;
        outcome = earlier ? await submit() : await admission.admit({ frontend, userId, db, unfinished: facts.unfinished, queued: facts.queued }, submit);
      } catch (error) {
        await input?.discard();
        throw error;
      }
      // A replay answers with the first submit's task: this request's own stored input is unused.
      if (outcome.replayed) await input?.discard();
      const { row: task, replayed } = outcome;
      if (replayed) c.header("Idempotent-Replayed", "true");
      return c.json({ task: submittedTaskView(task, publicRefs(c.get("deps")), tasks.bindsAtSubmit) }, 202);
    })
    .openapi(getTask, async (c) => {
      const task = await ownTask(c, c.req.valid("param").id);
      const progress = c.get("deps").hub.latestProgress(taskKey(c.get("frontend"), task.id));
      return c.json({ task: taskView(task, progress, publicRefs(c.get("deps"))) }, 200);
    })
    .openapi(cancelTask, async (c) => {
      const task = await ownTask(c, c.req.valid("param").id);
      const after = await c.get("deps").tasks.cancel(c.get("frontend"), task);
      return c.json({ task: taskView(after, undefined, publicRefs(c.get("deps"))) }, 200);
    });
}
