import { aheadOf } from "../comfy/comfy-client.ts";
import type { HistoryEntry } from "../comfy/schemas.ts";
import type { JobContext } from "./job-context.ts";
import type { JobFinisher } from "./job-finisher.ts";
import type { LiveJob } from "./live-job.ts";
import type { QueueReads } from "./queue-reads.ts";
import { SingleFlight } from "./single-flight.ts";

function lastMessage(entry: HistoryEntry): { type: string; data: Record<string, unknown> } | null {
  const messages = (entry.status?.messages ?? []) as unknown[];
  const last = messages.at(-1);
  if (!Array.isArray(last) || typeof last[0] !== "string") return null;
  return { type: last[0], data: (last[1] ?? {}) as Record<string, unknown> };
}

/**
 * Brings a job's row in line with what its ComfyUI server knows, after messages may have been
 * missed (a gateway restart, an upstream reconnect). Where the server has the jobs API, one
 * `/api/jobs/{id}` read per job; on 0.3.x one /history read, then the shared /queue answer only if
 * history has nothing. Never a polling loop.
 */
export class Reconciler {
  private readonly flights = new SingleFlight<void>();

  constructor(
    private readonly ctx: JobContext,
    private readonly finisher: JobFinisher,
    private readonly queues: QueueReads,
  ) {}

  reconcile(job: LiveJob): Promise<void> {
    // Its end is already being recorded (or was): reading history again would end it twice.
    if (job.ending) return job.ending;
    return this.flights.run(`${job.frontend}:${job.taskId}`, () => this.check(job));
  }

  private async check(job: LiveJob): Promise<void> {
    const client = this.ctx.servers.clientFor(job.serverId);
    // Capabilities that cannot be learned now leave the path that needs none.
    if ((await client.getCapabilities().catch(() => null))?.jobsApi === true) return this.checkJob(job);
    let entry = await client.getHistory(job.promptId);
    if (!entry) {
      // Any answer started after the job was queued lists it if it is still waiting or running.
      if (aheadOf(await this.queues.read(job.serverId, job.queuedAt), job.promptId)) return; // its messages will come
      // It may have finished between the two reads: only history tells that apart from a lost job.
      entry = await client.getHistory(job.promptId);
    }
    if (job.ending) return job.ending; // the event handler got there while we were reading
    if (entry) return this.finishFromHistory(job, entry);
    // Not finished, not queued: the server restarted or someone deleted it.
    await this.finisher.fail(job, "The ComfyUI server no longer knows this job (it restarted or the job was removed)", null);
  }

  private async checkJob(job: LiveJob): Promise<void> {
    const client = this.ctx.servers.clientFor(job.serverId);
    // A job ending while the server looks at its queue and then its history may be in neither
    // for that one answer: only a second unknown means a lost job.
    const state = (await client.getJob(job.promptId)) ?? (await client.getJob(job.promptId));
    if (job.ending) return job.ending;
    if (state?.entry) return this.finishFromHistory(job, state.entry);
    if (state !== null) return; // pending or in progress: its messages will come
    await this.finisher.fail(job, "The ComfyUI server no longer knows this job (it restarted or the job was removed)", null);
  }

  private async finishFromHistory(job: LiveJob, entry: HistoryEntry): Promise<void> {
    // Very old servers keep no status; their entries exist only for finished runs.
    if (!entry.status || entry.status.status_str === "success") {
      const refs = Object.entries(entry.outputs ?? {})
        .filter(([node]) => job.outputNodes.has(node))
        .flatMap(([, output]) => output.images ?? []);
      return this.finisher.succeed(job, refs);
    }
    const last = lastMessage(entry);
    if (last?.type === "execution_interrupted") {
      return job.cancelRequested ? this.finisher.cancel(job) : this.finisher.fail(job, "Interrupted on the ComfyUI server", null);
    }
    const node = typeof last?.data.node_id === "string" ? last.data.node_id : null;
    const reason = typeof last?.data.exception_message === "string" ? last.data.exception_message.trim() : "the run failed";
    const type = typeof last?.data.node_type === "string" ? last.data.node_type : "a node";
    return this.finisher.fail(job, `${type}${node ? ` (node ${node})` : ""} failed: ${reason}`, node);
  }
}
