import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { endTime, startTime, timing, wrapTime } from "hono/timing";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { taskKey } from "../realtime/task-key.ts";
import { validate } from "../lib/validate.ts";
import { parseBoundedForm } from "../middleware/bounded-form.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { lengths } from "../schema/columns.ts";
import { submittedTaskView, taskView } from "../views/task-view.ts";
import { checkTask, taskFormSchema } from "./task-form.ts";

export const taskIdParam = z.object({ id: z.string().min(1).max(lengths.id) });

export const listTasksQuery = z.object({
  frontend: z.string(),
  userId: z.string().min(1).max(lengths.id),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

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
      if (!(await db.getUser(userId))) throw new AppError("not_found", `No ${c.get("frontend")} user with that id`);
      const page = await db.listTasks(userId, { limit, cursor });
      if (!page) throw new AppError("validation_failed", "cursor: not a cursor this API returned");
      const { hub } = c.get("deps");
      const items = page.items.map((task) => taskView(task, hub.latestProgress(taskKey(c.get("frontend"), task.id))));
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
        const checked = await wrapTime(c, "check", checkTask(c, form));
        const db = c.get("db");
        if (!(await wrapTime(c, "user", db.getUser(form.userId)))) throw new AppError("not_found", `No ${c.get("frontend")} user with that id`);
        const time = <T>(stage: string, work: () => Promise<T>) => wrapTime(c, stage, work());
        const { tasks, admission } = c.get("deps");
        const submit = () => tasks.submit({ frontend: c.get("frontend"), userId: form.userId, ...checked, time });
        // A retry of a submit already made is answered as before, never refused by the caps it filled.
        const earlier = checked.idempotencyKey ? await db.findTaskByIdempotencyKey(form.userId, checked.idempotencyKey) : undefined;
        const { row: task, replayed } = earlier ? await submit() : await admission.admit({ frontend: c.get("frontend"), userId: form.userId, db }, submit);
        if (replayed) c.header("Idempotent-Replayed", "true");
        return c.json({ task: submittedTaskView(task) }, 202);
      },
    )
    .get("/:id", resolveFrontend(), validate("param", taskIdParam), async (c) => {
      const task = await c.get("db").getTask(c.req.valid("param").id);
      if (!task) throw new AppError("not_found", `No ${c.get("frontend")} task with that id`);
      const progress = c.get("deps").hub.latestProgress(taskKey(c.get("frontend"), task.id));
      return c.json({ task: taskView(task, progress) });
    })
    .delete("/:id", resolveFrontend(), validate("param", taskIdParam), async (c) => {
      const task = await c.get("db").getTask(c.req.valid("param").id);
      if (!task) throw new AppError("not_found", `No ${c.get("frontend")} task with that id`);
      const after = await c.get("deps").tasks.cancel(c.get("frontend"), task);
      return c.json({ task: taskView(after, undefined) });
    });
}
