import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { endTime, startTime, timing, wrapTime } from "hono/timing";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { taskKey } from "../realtime/task-key.ts";
import { validate } from "../lib/validate.ts";
import { parseBoundedForm } from "../middleware/bounded-form.ts";
import { assertOwner, tokenUserId } from "../middleware/auth.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { lengths } from "../schema/columns.ts";
import { publicRefs } from "../views/public-refs.ts";
import { submittedTaskView, taskView } from "../views/task-view.ts";
import { checkTask, taskFormSchema } from "./task-form.ts";

export const taskIdParam = z.object({ id: z.string().min(1).max(lengths.id) });

export const listTasksQuery = z.object({
  frontend: z.string(),
  userId: z.string().min(1).max(lengths.id),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

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

/** Room for the form's other fields around the image. */
const formOverheadBytes = 256 * 1024;

/**
 * POST /api/tasks (multipart submit), GET /api/tasks (a user's tasks, newest first,
 * cursor-paginated), GET /api/tasks/:id, DELETE /api/tasks/:id (cancel).
 */
export function createTasksRouter(maxUploadBytes: number) {
  return new Hono<AppEnv>()
    .get("/", resolveFrontend(), validate("query", listTasksQuery), async (c) => {
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
      return c.json({ items, nextCursor: page.nextCursor });
    })
    .post(
      "/",
      // Refuse an oversized body before it is buffered and parsed.
      bodyLimit({
        maxSize: maxUploadBytes + formOverheadBytes,
        onError: () => {
          throw new AppError("file_too_large", `The upload is larger than ${maxUploadBytes} bytes`);
        },
      }),
      // Server-Timing shows where a submit's time goes (parse, check, user, pick, upload, prompt, store, db).
      timing({ total: true, crossOrigin: false }),
      async (c, next) => {
        const { limits } = c.get("deps");
        startTime(c, "parse");
        await parseBoundedForm(c, { maxParts: limits.maxFormFields, timeoutMs: limits.requestTimeoutMs });
        endTime(c, "parse");
        await next();
      },
      resolveFrontend(),
      validate("form", taskFormSchema),
      async (c) => {
        const form = c.req.valid("form");
        const userId = submitterId(tokenUserId(c), form.userId);
        // A priority is the frontend's decision about its users, so a user token may not set one.
        if (form.priority !== undefined && tokenUserId(c) !== undefined) throw new AppError("forbidden", "priority: set by the frontend's key, not by a user token");
        const checked = await wrapTime(c, "check", checkTask(c, form));
        const db = c.get("db");
        if (!(await wrapTime(c, "user", db.getUser(userId)))) throw new AppError("not_found", `No ${c.get("frontend")} user with that id`);
        const time = <T>(stage: string, work: () => Promise<T>) => wrapTime(c, stage, work());
        const { tasks, admission } = c.get("deps");
        const submit = () => tasks.submit({ frontend: c.get("frontend"), userId, ...checked, time });
        // A retry of a submit already made is answered as before, never refused by the caps it filled.
        const earlier = checked.idempotencyKey ? await db.findTaskByIdempotencyKey(userId, checked.idempotencyKey) : undefined;
        const { row: task, replayed } = earlier ? await submit() : await admission.admit({ frontend: c.get("frontend"), userId, db }, submit);
        if (replayed) c.header("Idempotent-Replayed", "true");
        return c.json({ task: submittedTaskView(task, publicRefs(c.get("deps")), tasks.bindsAtSubmit) }, 202);
      },
    )
    .get("/:id", resolveFrontend(), validate("param", taskIdParam), async (c) => {
      const task = await ownTask(c, c.req.valid("param").id);
      const progress = c.get("deps").hub.latestProgress(taskKey(c.get("frontend"), task.id));
      return c.json({ task: taskView(task, progress, publicRefs(c.get("deps"))) });
    })
    .delete("/:id", resolveFrontend(), validate("param", taskIdParam), async (c) => {
      const task = await ownTask(c, c.req.valid("param").id);
      const after = await c.get("deps").tasks.cancel(c.get("frontend"), task);
      return c.json({ task: taskView(after, undefined, publicRefs(c.get("deps"))) });
    });
}
