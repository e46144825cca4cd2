import type { ProgressEvent } from "../realtime/task-events.ts";
import type { TaskRow } from "../schema/index.ts";
import type { PublicRefs } from "./public-refs.ts";

/**
 * The 202 answer of a submit: enough to poll and subscribe. Always says `queued`, as the first
 * answer did, so a replay under the same Idempotency-Key answers the very same body.
 */
export function submittedTaskView(task: TaskRow, refs: PublicRefs, boundAtSubmit: boolean) {
  // Late scheduling names no server at submit, and a replay (read after the dispatch) must not either.
  const server = boundAtSubmit ? refs.serverName(task.serverId) : null;
  return { id: task.id, status: "queued" as const, workflow: task.workflow, server, createdAt: task.createdAt.toISOString() };
}

/**
 * A task as the API shows it (one view for the list and for GET /api/tasks/:id): its progress so
 * far while it runs, its outputs or error once it ended, and none of ComfyUI's internals. The
 * input (a user's upload) is shown only as an expiring signed URL, the server by its public name.
 */
export function taskView(task: TaskRow, progress: ProgressEvent | undefined, refs: PublicRefs) {
  return {
    id: task.id,
    userId: task.userId,
    status: task.status,
    workflow: task.workflow,
    params: task.params,
    // Named once its prompt is on the server (a task being handed over is not there yet).
    server: task.promptId === null ? null : refs.serverName(task.serverId),
    progress:
      progress && task.status === "running"
        ? { node: progress.node, value: progress.value, max: progress.max, percent: progress.percent }
        : null,
    inputUrl: task.inputUrl ? refs.inputUrl(task.inputUrl) : null,
    outputUrls: task.outputUrls,
    error: task.error,
    /** Why a task waiting in the gateway cannot go to any live server now; null otherwise. */
    waitReason: task.status === "queued" ? task.waitReason : null,
    createdAt: task.createdAt.toISOString(),
    updatedAt: task.updatedAt.toISOString(),
    startedAt: task.startedAt?.toISOString() ?? null,
    finishedAt: task.finishedAt?.toISOString() ?? null,
  };
}

export type TaskView = ReturnType<typeof taskView>;
