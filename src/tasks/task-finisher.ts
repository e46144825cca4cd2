import type { FileRef } from "../comfy/schemas.ts";
import { sniffImageType, imageKinds } from "../upload/index.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import type { TaskContext } from "./task-context.ts";
import type { LiveTask } from "./live-task.ts";
import { endings, type Ending, type TaskLifecycle } from "./task-lifecycle.ts";

/**
 * Ends tasks: stores a success's images and saves their URLs, or records a failure or a cancel.
 * The only module that ends tasks: the life cycle's guards (TaskLifecycle) make the first end win.
 * Never rejects: a row that cannot be written is logged and the task stays live for the next
 * reconcile (a poll, a reconnect) to retry.
 */
export class TaskFinisher {
  constructor(
    private readonly ctx: TaskContext,
    private readonly lifecycle: TaskLifecycle,
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
      return this.record(task, endings.succeeded(task.taskId, outputUrls));
    });
  }

  fail(task: LiveTask, message: string, node: string | null): Promise<void> {
    return this.once(task, () => this.record(task, this.failure(task, message, node)));
  }

  cancel(task: LiveTask): Promise<void> {
    return this.once(task, () => this.record(task, endings.cancelled(task.taskId)));
  }

  /**
   * Ends a task nobody follows here (its server left the configuration, a cancel with nothing to
   * stop, a submit taken back): only the row's guard applies. Rejects when the row cannot be written.
   */
  endUnfollowed(frontend: Frontend, taskId: string, ending: Ending): Promise<boolean> {
    return this.lifecycle.end(frontend, taskId, ending);
  }

  private failure(task: LiveTask, message: string, node: string | null): Ending {
    return endings.failed(task.taskId, message, node);
  }

  /** The life cycle's guard: runs `work` unless an end is under way or recorded; then waits for that one. */
  private once(task: LiveTask, work: () => Promise<boolean>): Promise<void> {
    return this.lifecycle.endOnce(task, work);
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
  private async record(task: LiveTask, end: Ending): Promise<boolean> {
    try {
      await this.lifecycle.end(task.frontend, task.taskId, end);
    } catch (error) {
      this.ctx.logger.error("could not record a task's end; a later reconcile retries", { taskId: task.taskId, error: String(error) });
      return false;
    }
    this.ctx.live.remove(task);
    this.onEnded(task);
    return true;
  }
}
