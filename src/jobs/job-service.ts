import { aheadOf } from "../comfy/comfy-client.ts";
import type { QueueState } from "../comfy/schemas.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import { finishedStatuses, type Photo, type PhotoStatus } from "../schema/index.ts";
import { coalescedReader } from "./coalesced-reader.ts";
import { controllerOf, type JobContext } from "./job-context.ts";
import { JobFinisher } from "./job-finisher.ts";
import { newLiveJob, type LiveJob } from "./live-job.ts";
import { Reconciler } from "./reconciler.ts";
import { taskKey } from "./task-key.ts";
import { TaskSubmitter, type SubmitInput } from "./task-submitter.ts";
import { UpstreamWatch } from "./upstream-watch.ts";

export interface JobServiceOptions {
  /** How long one upstream /queue answer serves every poll of that server. */
  queueReadWindowMs?: number;
  /** A server whose stream stays down this long has its jobs failed. */
  lostAfterMs?: number;
}

export interface QueuePosition {
  taskId: string;
  status: PhotoStatus;
  running: boolean;
  ahead: number;
}

/** Jobs end to end: submit, where a job stands, cancel, and following them on their servers. */
export class JobService {
  private readonly finisher: JobFinisher;
  private readonly watch: UpstreamWatch;
  private readonly submitter: TaskSubmitter;
  private readonly queueReaders = new Map<string, () => Promise<QueueState>>();
  private readonly lastAhead = new Map<string, number>();

  constructor(
    private readonly ctx: JobContext,
    private readonly options: JobServiceOptions = {},
  ) {
    this.finisher = new JobFinisher(ctx);
    const reconciler = new Reconciler(ctx, this.finisher);
    this.watch = new UpstreamWatch(ctx, this.finisher, reconciler, options.lostAfterMs ?? 30_000);
    this.submitter = new TaskSubmitter(ctx, this.watch);
  }

  submit(input: SubmitInput) {
    return this.submitter.submit(input);
  }

  /** Re-follows every unfinished job after a start, reading each one's fate once from its server. */
  async resume(): Promise<void> {
    for (const [frontend, db] of this.ctx.controllers) {
      const rows = await db.listUnfinishedPhotos(this.ctx.gatewayId).catch((error: unknown) => {
        this.ctx.logger.warn("could not list unfinished jobs; they are reconciled at the next start", { frontend, error: String(error) });
        return [];
      });
      for (const row of rows) {
        const job = this.followRow(frontend, row);
        if (!job) {
          await this.orphan(frontend, row);
          continue;
        }
        void this.watch.attach(job.serverId).catch(() => undefined);
        void this.watch.reconcile(job);
      }
    }
  }

  /** A job whose server left the configuration can never be followed again: it has failed. */
  private async orphan(frontend: Frontend, row: Photo): Promise<void> {
    const message = `Its ComfyUI server ${row.serverId ?? "(none)"} is no longer configured`;
    await controllerOf(this.ctx, frontend)
      .transitionPhoto(row.id, ["queued", "running"], { status: "failed", error: message, finishedAt: this.ctx.clock.now() })
      .catch(() => undefined);
  }

  private followable(row: Photo): row is Photo & { serverId: string; promptId: string } {
    return row.serverId !== null && row.promptId !== null && this.ctx.servers.ids().includes(row.serverId);
  }

  private followRow(frontend: Frontend, row: Photo): LiveJob | null {
    if (!this.followable(row)) return null;
    const template = this.ctx.workflows.get(frontend, row.workflow);
    const job = newLiveJob(
      {
        frontend,
        taskId: row.id,
        serverId: row.serverId,
        promptId: row.promptId,
        outputNodes: new Set(template?.outputs ?? []),
        totalNodes: template ? Object.keys(template.prompt).length : null,
      },
      Promise.resolve(),
    );
    this.watch.follow(job);
    return job;
  }

  private readQueue(serverId: string): Promise<QueueState> {
    let reader = this.queueReaders.get(serverId);
    if (!reader) {
      const client = this.ctx.servers.clientFor(serverId);
      reader = coalescedReader(() => client.getQueue(), { maxAgeMs: this.options.queueReadWindowMs ?? 500 });
      this.queueReaders.set(serverId, reader);
    }
    return reader();
  }

  /** The client's poll: is the job running now, or how many are ahead of it. */
  async position(frontend: Frontend, photo: Photo): Promise<QueuePosition> {
    const done = { taskId: photo.id, running: false, ahead: 0 };
    if (finishedStatuses.includes(photo.status) || !this.followable(photo)) {
      this.lastAhead.delete(taskKey(frontend, photo.id));
      return { ...done, status: photo.status };
    }
    const place = aheadOf(await this.readQueue(photo.serverId), photo.promptId);
    if (place?.running) return { taskId: photo.id, status: "running", running: true, ahead: 0 };
    if (place) {
      this.announceAhead(frontend, photo.id, place.ahead);
      return { taskId: photo.id, status: "queued", running: false, ahead: place.ahead };
    }
    // In no queue and not finished: its end is being recorded, or was missed; ask its server once.
    const live = this.ctx.live.byTaskKey(frontend, photo.id);
    if (live) await this.watch.reconcile(live);
    const now = (await controllerOf(this.ctx, frontend).getPhoto(photo.id)) ?? photo;
    return { ...done, status: now.status };
  }

  /** Tells WebSocket followers their place when a poll learns that it changed. */
  private announceAhead(frontend: Frontend, taskId: string, ahead: number): void {
    const key = taskKey(frontend, taskId);
    if (this.lastAhead.get(key) === ahead) return;
    this.lastAhead.set(key, ahead);
    if (this.lastAhead.size > 10_000) this.lastAhead.delete(this.lastAhead.keys().next().value!);
    this.ctx.hub.publish(key, { type: "queued", taskId, ahead });
  }

  /**
   * Cancels a job: off the queue if pending, interrupted if running. A finished job is left as it is.
   * Returns the row as it stands afterwards.
   */
  async cancel(frontend: Frontend, photo: Photo): Promise<Photo> {
    const db = controllerOf(this.ctx, frontend);
    if (finishedStatuses.includes(photo.status)) return photo;
    const live = this.ctx.live.byTaskKey(frontend, photo.id) ?? this.followRow(frontend, photo);
    if (live) live.cancelRequested = true;
    if (this.followable(photo)) {
      const client = this.ctx.servers.clientFor(photo.serverId);
      const place = aheadOf(await client.getQueue(), photo.promptId);
      if (place?.running) await client.interrupt(photo.promptId);
      else if (place) await client.deleteFromQueue([photo.promptId]);
    }
    if (live) await this.finisher.cancel(live);
    else await db.transitionPhoto(photo.id, ["queued", "running"], { status: "cancelled", finishedAt: this.ctx.clock.now() });
    return (await db.getPhoto(photo.id)) ?? photo;
  }

  /** How many jobs this replica is following now. */
  get following(): number {
    return this.ctx.live.size;
  }

  close(): void {
    this.watch.close();
  }
}
