import type { ComfyStreamEvent } from "../comfy/event-stream.ts";
import type { TaskContext } from "./task-context.ts";
import type { TaskFinisher } from "./task-finisher.ts";
import type { LiveTask } from "./live-task.ts";
import type { Reconciler } from "./reconciler.ts";
import type { TaskLifecycle } from "./task-lifecycle.ts";
import { taskKey } from "../realtime/task-key.ts";
import { applyMessage, promptIdOf } from "./upstream-events.ts";

/**
 * Listens to each ComfyUI server's event stream and routes its messages to the tasks. A stream that
 * comes back triggers reconciliation; one that stays away past `lostAfterMs` fails its tasks.
 */
export class UpstreamWatch {
  private readonly attached = new Map<string, () => void>();
  private readonly lostTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly doubtful = new Map<LiveTask, number>();

  constructor(
    private readonly ctx: TaskContext,
    private readonly lifecycle: TaskLifecycle,
    private readonly finisher: TaskFinisher,
    private readonly reconciler: Reconciler,
    private readonly lostAfterMs: number,
  ) {}

  /** Starts following a server's stream (once); resolves when it is connected. */
  async attach(serverId: string): Promise<void> {
    const stream = this.ctx.servers.streamFor(serverId);
    if (!this.attached.has(serverId)) {
      this.attached.set(serverId, stream.on((event) => this.onEvent(serverId, event)));
    }
    await stream.ready();
  }

  /** Follows a task: replays messages that came before it was added, in order. */
  follow(task: LiveTask): void {
    for (const event of this.ctx.live.add(task)) this.dispatch(task, event);
  }

  /**
   * Reads a task's fate from its server. One that cannot be read (the server does not answer) is
   * kept in doubt, and the background reconciler tries again: no task waits for a reconnect.
   */
  reconcile(task: LiveTask): Promise<void> {
    return this.reconciler.reconcile(task).then(
      () => void this.doubtful.delete(task),
      (error: unknown) => {
        if (!this.doubtful.has(task)) this.doubtful.set(task, Date.now());
        this.ctx.logger.warn("reconcile failed; the reconciler retries", { taskId: task.taskId, server: task.serverId, error: String(error) });
      },
    );
  }

  /** Tasks whose last reconcile failed, with when the doubt began (ms). */
  inDoubt(): Array<[LiveTask, number]> {
    for (const task of this.doubtful.keys()) if (this.ctx.live.byTaskKey(task.frontend, task.taskId) !== task) this.doubtful.delete(task);
    return [...this.doubtful];
  }

  private onEvent(serverId: string, event: ComfyStreamEvent): void {
    if (event.type === "disconnected") return this.startLostTimer(serverId);
    if (event.type === "reconnected" || event.type === "connected") {
      this.clearLostTimer(serverId);
      if (event.type === "reconnected") for (const task of this.ctx.live.onServer(serverId)) void this.reconcile(task);
      return;
    }
    const promptId = promptIdOf(event);
    if (!promptId) return;
    const task = this.ctx.live.byPromptId(serverId, promptId);
    if (!task) {
      // `executing` with no node is the tail of a task already ended here; nothing waits for it.
      const tail = event.type === "executing" && event.data.node === null;
      if (!tail) this.ctx.live.holdEarly(serverId, promptId, event);
      return;
    }
    this.dispatch(task, event);
  }

  private dispatch(task: LiveTask, event: ComfyStreamEvent): void {
    if (event.type === "preview") {
      this.ctx.hub.publishPreview(taskKey(task.frontend, task.taskId), { taskId: task.taskId, format: event.format, bytes: event.bytes });
      return;
    }
    if (event.type === "connected" || event.type === "disconnected" || event.type === "reconnected") return;
    const stillLive = () => this.ctx.live.byTaskKey(task.frontend, task.taskId) === task;
    task.chain = task.chain
      .then(() => (stillLive() ? applyMessage(this.ctx, this.lifecycle, this.finisher, (j) => this.reconcile(j), task, event) : undefined))
      .catch((error: unknown) => this.ctx.logger.error("task event failed", { taskId: task.taskId, type: event.type, error: String(error) }));
  }

  private startLostTimer(serverId: string): void {
    if (this.lostTimers.has(serverId)) return;
    const timer = setTimeout(() => {
      this.lostTimers.delete(serverId);
      const lost = this.ctx.live.onServer(serverId);
      if (lost.length === 0) return;
      // One line for the whole batch: an operator sees what a server's loss cost at a glance.
      this.ctx.logger.warn("tasks failed: comfy server lost", { server: serverId, count: lost.length });
      this.ctx.metrics.tasksLost.inc({ server: serverId }, lost.length);
      for (const task of lost) {
        void this.finisher.fail(task, `The ComfyUI server ${this.ctx.servers.publicName(serverId)} went away while this task was queued or running`, null);
      }
    }, this.lostAfterMs);
    timer.unref?.();
    this.lostTimers.set(serverId, timer);
  }

  private clearLostTimer(serverId: string): void {
    clearTimeout(this.lostTimers.get(serverId));
    this.lostTimers.delete(serverId);
  }

  close(): void {
    for (const stop of this.attached.values()) stop();
    this.attached.clear();
    for (const timer of this.lostTimers.values()) clearTimeout(timer);
    this.lostTimers.clear();
  }
}
