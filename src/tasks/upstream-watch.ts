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
  /** Prompts put back in the gateway's queue from a lost server: taken off it when it is back. */
  private readonly released = new Map<string, Set<string>>();

  constructor(
    private readonly ctx: TaskContext,
    private readonly lifecycle: TaskLifecycle,
    private readonly finisher: TaskFinisher,
    private readonly reconciler: Reconciler,
    private readonly lostAfterMs: number,
    private readonly options: {
      /** Late scheduling: a lost server's tasks that did not start go back to the gateway's queue. */
      requeueUnstarted?: boolean;
      /** A server's stream (re)connected, or tasks went back to the queue: the dispatcher has work. */
      onServerBack?: (serverId: string) => void;
    } = {},
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
      void this.takeBackReleased(serverId).finally(() => this.options.onServerBack?.(serverId));
      return;
    }
    const promptId = promptIdOf(event);
    if (!promptId) return;
    const task = this.ctx.live.byPromptId(serverId, promptId);
    if (!task) {
      // `executing` with no node is mostly the tail of a task already ended here, which nothing waits
      // for; but after held messages it ends a run whose /prompt answer is late (on servers too old to
      // send execution_success, the only end it has).
      const tail = event.type === "executing" && event.data.node === null;
      if (!tail || this.ctx.live.holdsEarly(serverId, promptId)) this.ctx.live.holdEarly(serverId, promptId, event);
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
      void Promise.all(lost.map((task) => this.loseTask(serverId, task))).then((outcomes) => {
        const failed = outcomes.filter((outcome) => outcome === "failed").length;
        // One line for the whole batch: an operator sees what a server's loss cost at a glance.
        if (failed > 0) this.ctx.logger.warn("tasks failed: comfy server lost", { server: serverId, count: failed });
        if (failed > 0) this.ctx.metrics.tasksLost.inc({ server: serverId }, failed);
        const requeued = outcomes.length - failed;
        if (requeued > 0) this.ctx.logger.info("tasks back in the queue: comfy server lost before they started", { server: serverId, count: requeued });
        this.options.onServerBack?.(serverId);
      });
    }, this.lostAfterMs);
    timer.unref?.();
    this.lostTimers.set(serverId, timer);
  }

  /**
   * A task of a lost server: one that had not started there goes back to the gateway's queue at its
   * place (late scheduling; the row's guard says whether it started), one that had is failed.
   */
  private async loseTask(serverId: string, task: LiveTask): Promise<"requeued" | "failed"> {
    if (this.options.requeueUnstarted) {
      const db = this.ctx.controllers.get(task.frontend);
      if (await db?.releaseTask(task.taskId, serverId).catch(() => false)) {
        this.ctx.live.remove(task);
        this.released.set(serverId, (this.released.get(serverId) ?? new Set()).add(task.promptId));
        return "requeued";
      }
    }
    await this.finisher.fail(task, `The ComfyUI server ${this.ctx.servers.publicName(serverId)} went away while this task was queued or running`, null);
    return "failed";
  }

  /**
   * The server is back with what it had queued (a stream outage, not a restart): the prompts that
   * went back to the gateway's queue meanwhile run elsewhere, so they are taken off this one (and
   * interrupted should one have started), and nothing runs twice.
   */
  private async takeBackReleased(serverId: string): Promise<void> {
    const prompts = this.released.get(serverId);
    if (!prompts || prompts.size === 0) return;
    const client = this.ctx.servers.clientFor(serverId);
    try {
      const queue = await client.getQueue();
      const pending = queue.pending.filter((item) => prompts.has(item.promptId)).map((item) => item.promptId);
      if (pending.length > 0) await client.deleteFromQueue(pending);
      for (const item of queue.running.filter((running) => prompts.has(running.promptId))) await client.interrupt(item.promptId);
      this.released.delete(serverId);
      if (pending.length > 0) this.ctx.logger.info("took back prompts that run elsewhere", { server: serverId, count: pending.length });
    } catch (error) {
      this.ctx.logger.warn("could not take back prompts from a returning server", { server: serverId, error: String(error) });
    }
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
