import type { ComfyStreamEvent } from "../comfy/event-stream.ts";
import type { JobContext } from "./job-context.ts";
import type { JobFinisher } from "./job-finisher.ts";
import type { LiveJob } from "./live-job.ts";
import type { Reconciler } from "./reconciler.ts";
import { taskKey } from "./task-key.ts";
import { applyMessage, promptIdOf } from "./upstream-events.ts";

/**
 * Listens to each ComfyUI server's event stream and routes its messages to the jobs. A stream that
 * comes back triggers reconciliation; one that stays away past `lostAfterMs` fails its jobs.
 */
export class UpstreamWatch {
  private readonly attached = new Map<string, () => void>();
  private readonly lostTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly ctx: JobContext,
    private readonly finisher: JobFinisher,
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

  /** Follows a job: replays messages that came before it was added, in order. */
  follow(job: LiveJob): void {
    for (const event of this.ctx.live.add(job)) this.dispatch(job, event);
  }

  reconcile(job: LiveJob): Promise<void> {
    return this.reconciler.reconcile(job).catch((error: unknown) => {
      this.ctx.logger.warn("reconcile failed; will retry on reconnect", { taskId: job.taskId, error: String(error) });
    });
  }

  private onEvent(serverId: string, event: ComfyStreamEvent): void {
    if (event.type === "disconnected") return this.startLostTimer(serverId);
    if (event.type === "reconnected" || event.type === "connected") {
      this.clearLostTimer(serverId);
      if (event.type === "reconnected") for (const job of this.ctx.live.onServer(serverId)) void this.reconcile(job);
      return;
    }
    const promptId = promptIdOf(event);
    if (!promptId) return;
    const job = this.ctx.live.byPromptId(serverId, promptId);
    if (!job) {
      // `executing` with no node is the tail of a job already ended here; nothing waits for it.
      const tail = event.type === "executing" && event.data.node === null;
      if (!tail) this.ctx.live.holdEarly(serverId, promptId, event);
      return;
    }
    this.dispatch(job, event);
  }

  private dispatch(job: LiveJob, event: ComfyStreamEvent): void {
    if (event.type === "preview") {
      this.ctx.hub.publishPreview(taskKey(job.frontend, job.taskId), { taskId: job.taskId, format: event.format, bytes: event.bytes });
      return;
    }
    if (event.type === "connected" || event.type === "disconnected" || event.type === "reconnected") return;
    const stillLive = () => this.ctx.live.byTaskKey(job.frontend, job.taskId) === job;
    job.chain = job.chain
      .then(() => (stillLive() ? applyMessage(this.ctx, this.finisher, (j) => this.reconcile(j), job, event) : undefined))
      .catch((error: unknown) => this.ctx.logger.error("job event failed", { taskId: job.taskId, type: event.type, error: String(error) }));
  }

  private startLostTimer(serverId: string): void {
    if (this.lostTimers.has(serverId)) return;
    const timer = setTimeout(() => {
      this.lostTimers.delete(serverId);
      for (const job of this.ctx.live.onServer(serverId)) {
        void this.finisher.fail(job, `The ComfyUI server ${this.ctx.servers.publicName(serverId)} went away while this job was queued or running`, null);
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
