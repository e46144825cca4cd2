import type { FileRef } from "../comfy/schemas.ts";
import { sniffImageType, imageKinds } from "../upload/index.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import { controllerOf, type JobContext } from "./job-context.ts";
import type { LiveJob } from "./live-job.ts";
import type { FinalTaskEvent } from "./task-events.ts";
import { taskKey } from "./task-key.ts";

const unfinished = ["queued", "running"] as const;

type EndPatch = { status: "succeeded" | "failed" | "cancelled"; outputUrls?: string[]; error?: string };

/**
 * Writes a job's end to its row if the row is still unfinished, and then tells its followers.
 * False when another end was written first (whoever wrote that one announced it). Rejects when
 * the row cannot be written.
 */
export async function recordEnd(ctx: JobContext, frontend: Frontend, taskId: string, [patch, event]: [EndPatch, FinalTaskEvent]): Promise<boolean> {
  const changed = await controllerOf(ctx, frontend).transitionPhoto(taskId, unfinished, { ...patch, finishedAt: ctx.clock.now() });
  if (changed) ctx.hub.publish(taskKey(frontend, taskId), event);
  return changed;
}

/**
 * Ends jobs: stores a success's images and saves their URLs, or records a failure or a cancel.
 * One end per job runs at a time (`job.ending`), so a reconcile racing the event handler never
 * fetches and stores the results twice; the row update is guarded too, so the first end wins.
 * Never rejects: a row that cannot be written is logged and the job stays live for the next
 * reconcile (a poll, a reconnect) to retry.
 */
export class JobFinisher {
  constructor(
    private readonly ctx: JobContext,
    /** Told once a job's end is recorded (the poll's remembered queue place goes with it). */
    private readonly onEnded: (job: LiveJob) => void = () => undefined,
  ) {}

  succeed(job: LiveJob, refs: readonly FileRef[]): Promise<void> {
    return this.once(job, async () => {
      if (refs.length === 0) return this.record(job, this.failure(job, "The workflow finished without producing an image", null));
      let outputUrls: string[];
      try {
        outputUrls = await Promise.all(refs.map((ref) => this.storeOutput(job, ref)));
      } catch (error) {
        this.ctx.logger.error("could not store results", { taskId: job.taskId, error: String(error) });
        return this.record(job, this.failure(job, "The result images could not be fetched from ComfyUI or stored", null));
      }
      return this.record(job, [{ status: "succeeded", outputUrls }, { type: "succeeded", taskId: job.taskId, outputUrls }]);
    });
  }

  fail(job: LiveJob, message: string, node: string | null): Promise<void> {
    return this.once(job, () => this.record(job, this.failure(job, message, node)));
  }

  cancel(job: LiveJob): Promise<void> {
    return this.once(job, () => this.record(job, [{ status: "cancelled" }, { type: "cancelled", taskId: job.taskId }]));
  }

  private failure(job: LiveJob, message: string, node: string | null): [EndPatch, FinalTaskEvent] {
    return [{ status: "failed", error: message }, { type: "failed", taskId: job.taskId, message, node }];
  }

  /** Runs `work` unless an end is already under way or recorded; then waits for that one. */
  private once(job: LiveJob, work: () => Promise<boolean>): Promise<void> {
    if (job.ending) return job.ending;
    const ending = work().then((recorded) => {
      if (recorded || job.ending !== ending) return;
      job.ending = null;
      job.endUnrecorded = true;
    });
    job.ending = ending;
    return ending;
  }

  private async storeOutput(job: LiveJob, ref: FileRef): Promise<string> {
    const { bytes } = await this.ctx.servers.clientFor(job.serverId).view(ref);
    const kind = sniffImageType(bytes) ?? "png";
    const stored = await this.ctx.storage.put({
      bytes,
      contentType: imageKinds[kind].contentType,
      extension: imageKinds[kind].extension,
      prefix: `${job.frontend}/outputs`,
    });
    return stored.url;
  }

  /** Writes the end; only then is the job let go. Returns false when the row could not be written. */
  private async record(job: LiveJob, end: [EndPatch, FinalTaskEvent]): Promise<boolean> {
    try {
      await recordEnd(this.ctx, job.frontend, job.taskId, end);
    } catch (error) {
      this.ctx.logger.error("could not record a job's end; a later reconcile retries", { taskId: job.taskId, error: String(error) });
      return false;
    }
    this.ctx.live.remove(job);
    this.onEnded(job);
    return true;
  }
}
