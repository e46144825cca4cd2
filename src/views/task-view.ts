import { z } from "zod";
import type { ProgressEvent } from "../realtime/task-events.ts";
import { taskStatuses, type TaskRow } from "../schema/index.ts";
import type { PublicRefs } from "./public-refs.ts";

const isoTime = z.iso.datetime();

/** The 202 answer of a submit, as the API documents it. */
export const submittedTaskViewSchema = z
  .object({
    id: z.string(),
    status: z.literal("queued"),
    workflow: z.string(),
    server: z.string().nullable().meta({ description: "The ComfyUI server's public name" }),
    createdAt: isoTime,
  })
  .meta({ id: "SubmittedTask" });

/** A task as `GET /api/tasks/:id` and the list show it. */
export const taskViewSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    status: z.enum(taskStatuses),
    workflow: z.string(),
    params: z.record(z.string(), z.unknown()).meta({ description: "The parameters as checked against the template" }),
    server: z.string().nullable().meta({ description: "The ComfyUI server's public name" }),
    progress: z
      .object({ node: z.string().nullable(), value: z.number(), max: z.number(), percent: z.number().min(0).max(100).nullable() })
      .nullable()
      .meta({ description: "While running: the latest progress (null before the first, and once ended)" }),
    inputUrl: z.string().nullable().meta({ description: "The upload, as an expiring signed URL (local storage)" }),
    outputUrls: z.array(z.string()),
    error: z.string().nullable(),
    createdAt: isoTime,
    updatedAt: isoTime,
    startedAt: isoTime.nullable(),
    finishedAt: isoTime.nullable(),
  })
  .meta({ id: "Task" });

export type SubmittedTaskView = z.infer<typeof submittedTaskViewSchema>;
export type TaskView = z.infer<typeof taskViewSchema>;

/**
 * The 202 answer of a submit: enough to poll and subscribe. Always says `queued`, as the first
 * answer did, so a replay under the same Idempotency-Key answers the very same body.
 */
export function submittedTaskView(task: TaskRow, refs: PublicRefs): SubmittedTaskView {
  return { id: task.id, status: "queued", workflow: task.workflow, server: refs.serverName(task.serverId), createdAt: task.createdAt.toISOString() };
}

/**
 * A task as the API shows it (one view for the list and for GET /api/tasks/:id): its progress so
 * far while it runs, its outputs or error once it ended, and none of ComfyUI's internals. The
 * input (a user's upload) is shown only as an expiring signed URL, the server by its public name.
 */
export function taskView(task: TaskRow, progress: ProgressEvent | undefined, refs: PublicRefs): TaskView {
  return {
    id: task.id,
    userId: task.userId,
    status: task.status,
    workflow: task.workflow,
    params: task.params,
    server: refs.serverName(task.serverId),
    progress:
      progress && task.status === "running"
        ? { node: progress.node, value: progress.value, max: progress.max, percent: progress.percent }
        : null,
    inputUrl: task.inputUrl ? refs.inputUrl(task.inputUrl) : null,
    outputUrls: task.outputUrls,
    error: task.error,
    createdAt: task.createdAt.toISOString(),
    updatedAt: task.updatedAt.toISOString(),
    startedAt: task.startedAt?.toISOString() ?? null,
    finishedAt: task.finishedAt?.toISOString() ?? null,
  };
}
