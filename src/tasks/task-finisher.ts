import type { FileRef } from "../comfy/schemas.ts";
import { sniffImageType, imageKinds } from "../upload/index.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import { controllerOf, type TaskContext } from "./task-context.ts";
import type { LiveTask } from "./live-task.ts";
import type { FinalTaskEvent } from "../realtime/task-events.ts";
import { taskKey } from "../realtime/task-key.ts";

const unfinished = ["queued", "running"] as const;

type EndPatch = { status: "succeeded" | "failed" | "cancelled"; outputUrls?: string[]; error?: string };

/**
 * Writes a task's end to its row if the row is still unfinished, and then tells its followers.
 * False when another end was written first (whoever wrote that one announced it). Rejects when
 * the row cannot be written.
 */
export async function recordEnd(ctx: TaskContext, frontend: Frontend, taskId: string, [patch, event]: [EndPatch, FinalTaskEvent]): Promise<boolean> {
  const changed = await controllerOf(ctx, frontend).transitionTask(taskId, unfinished, { ...patch, finishedAt: ctx.clock.now() });
  if (changed) ctx.hub.publish(taskKey(frontend, taskId), event);
  return changed;
}

/**
 * Ends tasks: stores a success's images and saves their URLs, or records a failure or a cancel.
 * One end per task runs at a time (`task.ending`), so a reconcile racing the event handler never
 * fetches and stores the results twice; the row update is guarded too, so the first end wins.
 * Never rejects: a row that cannot be written is logged and the task stays live for the next
 * reconcile (a poll, a reconnect) to retry.
 */
export class TaskFinisher {
  constructor(
    private readonly ctx: TaskContext,
    /** Told once a task's end is recorded (the poll's remembered queue place goes with it). */
    private readonly onEnded: (task: LiveTask) => void = () => undefined,
  ) {}

  succeed(task: LiveTask, refs: readonly FileRef[]): Promise<void> {
    return this.once(task, async () => {
      if (refs.length === 0) return this.record(task, this.failure(task, "The workflow finished without producing an image", null));
      let outputUrls: string[];
      try {
        outputUrls = await Promise.all(refs.map((ref) => this.storeOutput(task, ref)));
      } catch (error) {
        this.ctx.logger.error("could not store results", { taskId: task.taskId, error: String(error) });
        return this.record(task, this.failure(task, "The result images could not be fetched from ComfyUI or stored", null));
      }
      return this.record(task, [{ status: "succeeded", outputUrls }, { type: "succeeded", taskId: task.taskId, outputUrls }]);
    });
  }

  fail(task: LiveTask, message: string, node: string | null): Promise<void> {
    return this.once(task, () => this.record(task, this.failure(task, message, node)));
  }

  cancel(task: LiveTask): Promise<void> {
    return this.once(task, () => this.record(task, [{ status: "cancelled" }, { type: "cancelled", taskId: task.taskId }]));
  }

  private failure(task: LiveTask, message: string, node: string | null): [EndPatch, FinalTaskEvent] {
    return [{ status: "failed", error: message }, { type: "failed", taskId: task.taskId, message, node }];
  }

  /** Runs `work` unless an end is already under way or recorded; then waits for that one. */
  private once(task: LiveTask, work: () => Promise<boolean>): Promise<void> {
    if (task.ending) return task.ending;
    const ending = work().then((recorded) => {
      if (recorded || task.ending !== ending) return;
      task.ending = null;
      task.endUnrecorded = true;
    });
    task.ending = ending;
    return ending;
  }

  private async storeOutput(task: LiveTask, ref: FileRef): Promise<string> {
    const { bytes } = await this.ctx.servers.clientFor(task.serverId).view(ref);
    const kind = sniffImageType(bytes) ?? "png";
    const stored = await this.ctx.storage.put({
      bytes,
      contentType: imageKinds[kind].contentType,
      extension: imageKinds[kind].extension,
      prefix: `${task.frontend}/outputs`,
    });
    return stored.url;
  }

  /** Writes the end; only then is the task let go. Returns false when the row could not be written. */
  private async record(task: LiveTask, end: [EndPatch, FinalTaskEvent]): Promise<boolean> {
    try {
      await recordEnd(this.ctx, task.frontend, task.taskId, end);
    } catch (error) {
      this.ctx.logger.error("could not record a task's end; a later reconcile retries", { taskId: task.taskId, error: String(error) });
      return false;
    }
    this.ctx.live.remove(task);
    this.onEnded(task);
    return true;
  }
}
