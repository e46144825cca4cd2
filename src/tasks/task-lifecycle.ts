import type { Frontend } from "../controllers/db-controller-map.ts";
import type { FinalTaskEvent } from "../realtime/task-events.ts";
import { taskKey } from "../realtime/task-key.ts";
import { taskStatuses, type TaskStatus } from "../schema/index.ts";
import type { LiveTask } from "./live-task.ts";
import { controllerOf, type TaskContext } from "./task-context.ts";
import { observeEnding } from "./task-metrics.ts";
import { taskWebhookEvent } from "../webhooks/events.ts";

/**
 * A task's life cycle, the one place it moves: queued → running → succeeded | failed | cancelled,
 * and queued straight to an ending (cancelled while pending, failed on a lost server). An ended
 * task never moves again.
 */
export const transitions: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  queued: ["running", "succeeded", "failed", "cancelled"],
  running: ["succeeded", "failed", "cancelled"],
  succeeded: [],
  failed: [],
  cancelled: [],
};

/** The statuses a task may move to `to` from: the guard of the row's update. */
function movableTo(to: TaskStatus): TaskStatus[] {
  return taskStatuses.filter((status) => transitions[status].includes(to));
}

/** An ending: what is written on the row, and the final event its followers hear. */
export interface Ending {
  patch: { status: "succeeded" | "failed" | "cancelled"; outputUrls?: string[]; error?: string };
  event: FinalTaskEvent;
}

/** The three endings, each with the event its transition publishes. */
export const endings = {
  succeeded: (taskId: string, outputUrls: string[]): Ending => ({ patch: { status: "succeeded", outputUrls }, event: { type: "succeeded", taskId, outputUrls } }),
  failed: (taskId: string, message: string, node: string | null): Ending => ({
    patch: { status: "failed", error: message },
    event: { type: "failed", taskId, message, node },
  }),
  cancelled: (taskId: string): Ending => ({ patch: { status: "cancelled" }, event: { type: "cancelled", taskId } }),
};

/**
 * Moves tasks along their life cycle. Two guards make the first ending win: the row update only
 * applies from a status that may move (so a second writer, on any replica, changes nothing and
 * announces nothing), and, for a task this replica follows, one ending runs at a time
 * (`endOnce`), so a reconcile racing the event handler never fetches and stores results twice.
 * Other modules ask it to move a task; they do not set a LiveTask's life-cycle flags themselves.
 */
export class TaskLifecycle {
  constructor(private readonly ctx: TaskContext) {}

  /** queued → running (ComfyUI started it); publishes `running` when this call moved it. */
  async start(frontend: Frontend, taskId: string): Promise<boolean> {
    const now = this.ctx.clock.now();
    const event = taskWebhookEvent(frontend, taskId, { status: "running" }, now);
    const { moved, enqueued } = await controllerOf(this.ctx, frontend).transitionTaskWithOutbox(taskId, movableTo("running"), { status: "running", startedAt: now }, event);
    if (enqueued > 0) this.ctx.outbox?.written(frontend, enqueued);
    if (moved) this.ctx.hub.publish(taskKey(frontend, taskId), { type: "running", taskId });
    return moved;
  }

  /**
   * Writes an ending to the row if it is still unfinished, with its webhook outbox rows in the same
   * transaction, and then publishes its final event. False when another ending was written first
   * (whoever wrote that one announced it). Rejects when the row cannot be written.
   */
  async end(frontend: Frontend, taskId: string, { patch, event }: Ending): Promise<boolean> {
    const now = this.ctx.clock.now();
    const webhook = taskWebhookEvent(frontend, taskId, patch, now);
    const { moved, enqueued } = await controllerOf(this.ctx, frontend).transitionTaskWithOutbox(taskId, movableTo(patch.status), { ...patch, finishedAt: now }, webhook);
    if (enqueued > 0) this.ctx.outbox?.written(frontend, enqueued);
    if (moved) this.ctx.hub.publish(taskKey(frontend, taskId), event);
    if (moved) observeEnding(this.ctx, frontend, taskId, patch.status);
    return moved;
  }

  /**
   * Runs `work` (which resolves whether the ending was recorded) unless an ending of this task is
   * already under way or recorded; then waits for that one. An ending that could not be recorded
   * is let go, and the task marked so that the next poll reconciles to retry.
   */
  endOnce(task: LiveTask, work: () => Promise<boolean>): Promise<void> {
    if (task.ending) return task.ending;
    const ending = work().then((recorded) => {
      if (recorded || task.ending !== ending) return;
      task.ending = null;
      task.endUnrecorded = true;
    });
    task.ending = ending;
    return ending;
  }

  /** A client asked to cancel: an interrupt that follows is then a cancel, not a failure. */
  requestCancel(task: LiveTask): void {
    task.cancelRequested = true;
  }
}
