import { aheadOf } from "../comfy/comfy-client.ts";
import type { HistoryEntry } from "../comfy/schemas.ts";
import type { JobContext } from "./job-context.ts";
import type { JobFinisher } from "./job-finisher.ts";
import type { LiveJob } from "./live-job.ts";
import { SingleFlight } from "./single-flight.ts";

function lastMessage(entry: HistoryEntry): { type: string; data: Record<string, unknown> } | null {
  const messages = (entry.status?.messages ?? []) as unknown[];
  const last = messages.at(-1);
  if (!Array.isArray(last) || typeof last[0] !== "string") return null;
  return { type: last[0], data: (last[1] ?? {}) as Record<string, unknown> };
}

/**
 * Brings a job's row in line with what its ComfyUI server knows, after messages may have been
 * missed (a gateway restart, an upstream reconnect). One /history read per job, then /queue only
 * if history has nothing; never a polling loop.
 */
export class Reconciler {
  private readonly flights = new SingleFlight<void>();

  constructor(
    private readonly ctx: JobContext,
    private readonly finisher: JobFinisher,
  ) {}

  reconcile(job: LiveJob): Promise<void> {
    return this.flights.run(`${job.frontend}:${job.taskId}`, () => this.check(job));
  }

  private async check(job: LiveJob): Promise<void> {
    const client = this.ctx.servers.clientFor(job.serverId);
    const entry = await client.getHistory(job.promptId);
    if (entry) return this.finishFromHistory(job, entry);
    const position = aheadOf(await client.getQueue(), job.promptId);
    if (position) return; // still queued or running: its messages will come
    // Not finished, not queued: the server restarted or someone deleted it.
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
