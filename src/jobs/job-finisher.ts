import type { FileRef } from "../comfy/schemas.ts";
import { sniffImageType, imageKinds } from "../upload/index.ts";
import { controllerOf, type JobContext } from "./job-context.ts";
import type { LiveJob } from "./live-job.ts";
import { taskKey } from "./task-key.ts";

const unfinished = ["queued", "running"] as const;

/**
 * Ends jobs: stores a success's images and saves their URLs, or records a failure or a cancel.
 * Each end is a guarded transition, so the first end wins and the others change nothing.
 */
export class JobFinisher {
  constructor(private readonly ctx: JobContext) {}

  async succeed(job: LiveJob, refs: readonly FileRef[]): Promise<void> {
    if (refs.length === 0) return this.fail(job, "The workflow finished without producing an image", null);
    let outputUrls: string[];
    try {
      outputUrls = await Promise.all(refs.map((ref) => this.storeOutput(job, ref)));
    } catch (error) {
      this.ctx.logger.error("could not store results", { taskId: job.taskId, error: String(error) });
      return this.fail(job, "The result images could not be fetched from ComfyUI or stored", null);
    }
    await this.end(job, { status: "succeeded", outputUrls }, { type: "succeeded", taskId: job.taskId, outputUrls });
  }

  async fail(job: LiveJob, message: string, node: string | null): Promise<void> {
    await this.end(job, { status: "failed", error: message }, { type: "failed", taskId: job.taskId, message, node });
  }

  async cancel(job: LiveJob): Promise<void> {
    await this.end(job, { status: "cancelled" }, { type: "cancelled", taskId: job.taskId });
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

  private async end(
    job: LiveJob,
    patch: { status: "succeeded" | "failed" | "cancelled"; outputUrls?: string[]; error?: string },
    event: Parameters<JobContext["hub"]["publish"]>[1],
  ): Promise<void> {
    this.ctx.live.remove(job);
    const db = controllerOf(this.ctx, job.frontend);
    const changed = await db.transitionPhoto(job.taskId, unfinished, { ...patch, finishedAt: this.ctx.clock.now() });
    if (changed) this.ctx.hub.publish(taskKey(job.frontend, job.taskId), event);
  }
}
