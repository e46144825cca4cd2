import type { Frontend } from "../controllers/db-controller-map.ts";
import type { Photo } from "../schema/index.ts";
import type { JobContext } from "./job-context.ts";
import { recordEnd, type JobFinisher } from "./job-finisher.ts";
import { newLiveJob, type LiveJob } from "./live-job.ts";
import type { UpstreamWatch } from "./upstream-watch.ts";

/** A row the gateway can follow: its prompt is known and its server still configured. */
export function followable(ctx: JobContext, row: Photo): row is Photo & { serverId: string; promptId: string } {
  return row.serverId !== null && row.promptId !== null && ctx.servers.ids().includes(row.serverId);
}

/**
 * Picks up, after a start, the jobs this replica left unfinished: follows each on its server's
 * stream, then reads its fate once. The order matters: reconciling before the stream is connected
 * would miss a job that ends in between (its messages go nowhere, and nothing reconciles again).
 */
export class JobResumer {
  private closed = false;

  constructor(
    private readonly ctx: JobContext,
    private readonly watch: UpstreamWatch,
    private readonly finisher: JobFinisher,
    private readonly lostAfterMs: number,
  ) {}

  async resume(): Promise<void> {
    const byServer = new Map<string, LiveJob[]>();
    for (const [frontend, db] of this.ctx.controllers) {
      const rows = await db.listUnfinishedPhotos(this.ctx.gatewayId).catch((error: unknown) => {
        this.ctx.logger.warn("could not list unfinished jobs; they are reconciled at the next start", { frontend, error: String(error) });
        return [];
      });
      for (const row of rows) {
        const job = this.followRow(frontend, row);
        if (!job) await this.orphan(frontend, row);
        else byServer.set(job.serverId, [...(byServer.get(job.serverId) ?? []), job]);
      }
    }
    await Promise.all([...byServer].map(([serverId, jobs]) => this.resumeOn(serverId, jobs)));
  }

  /** Follows a row's job on its server (a fresh LiveJob), or null when it cannot be followed. */
  followRow(frontend: Frontend, row: Photo): LiveJob | null {
    if (!followable(this.ctx, row)) return null;
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

  close(): void {
    this.closed = true;
  }

  private async resumeOn(serverId: string, jobs: LiveJob[]): Promise<void> {
    const since = Date.now();
    // A server that is down now may come back: wait for its stream (each try waits a few seconds),
    // as long as a server that went away mid-run would be waited for.
    while (!(await this.watch.attach(serverId).then(() => true, () => false))) {
      if (this.closed) return;
      if (Date.now() - since >= this.lostAfterMs) {
        const message = `The ComfyUI server ${this.ctx.servers.publicName(serverId)} did not come back after the gateway restarted`;
        await Promise.all(jobs.map((job) => this.finisher.fail(job, message, null)));
        return;
      }
    }
    await Promise.all(jobs.map((job) => this.watch.reconcile(job)));
  }

  /** A job whose server left the configuration can never be followed again: it has failed. */
  private async orphan(frontend: Frontend, row: Photo): Promise<void> {
    const message = `Its ComfyUI server ${row.serverId ?? "(none)"} is no longer configured`;
    await recordEnd(this.ctx, frontend, row.id, [{ status: "failed", error: message }, { type: "failed", taskId: row.id, message, node: null }]).catch(
      (error: unknown) => this.ctx.logger.warn("could not fail a job whose server left the configuration", { taskId: row.id, error: String(error) }),
    );
  }
}
