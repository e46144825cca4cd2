import { aheadOf } from "../comfy/comfy-client.ts";
import type { HistoryEntry } from "../comfy/schemas.ts";
import type { TaskContext } from "./task-context.ts";
import type { TaskFinisher } from "./task-finisher.ts";
import type { LiveTask } from "./live-task.ts";
import type { QueueReads } from "./queue-reads.ts";
import { SingleFlight } from "./single-flight.ts";

function lastMessage(entry: HistoryEntry): { type: string; data: Record<string, unknown> } | null {
  const messages = (entry.status?.messages ?? []) as unknown[];
  const last = messages.at(-1);
  if (!Array.isArray(last) || typeof last[0] !== "string") return null;
  return { type: last[0], data: (last[1] ?? {}) as Record<string, unknown> };
}

/**
 * Brings a task's row in line with what its ComfyUI server knows, after messages may have been
 * missed (a gateway restart, an upstream reconnect). Where the server has the jobs API, one
 * `/api/jobs/{id}` read per task; on 0.3.x one /history read, then the shared /queue answer only if
 * history has nothing. Never a polling loop.
 */
export class Reconciler {
  private readonly flights = new SingleFlight<void>();

  constructor(
    private readonly ctx: TaskContext,
    private readonly finisher: TaskFinisher,
    private readonly queues: QueueReads,
    /**
     * Late scheduling: a task its server no longer knows goes back to the gateway's queue if it had
     * not started (true when it did); a started one fails as before.
     */
    private readonly requeue: (task: LiveTask) => Promise<boolean> = async () => false,
  ) {}

  reconcile(task: LiveTask): Promise<void> {
    // Its end is already being recorded (or was): reading history again would end it twice.
    if (task.ending) return task.ending;
    return this.flights.run(`${task.frontend}:${task.taskId}`, () => this.check(task));
  }

  private async check(task: LiveTask): Promise<void> {
    const client = this.ctx.servers.clientFor(task.serverId);
    // Capabilities that cannot be learned now leave the path that needs none.
    if ((await client.getCapabilities().catch(() => null))?.jobsApi === true) return this.checkTask(task);
    let entry = await client.getHistory(task.promptId);
    if (!entry) {
      // Any answer started after the task was queued lists it if it is still waiting or running.
      if (aheadOf(await this.queues.read(task.serverId, task.queuedAt), task.promptId)) return; // its messages will come
      // It may have finished between the two reads: only history tells that apart from a lost task.
      entry = await client.getHistory(task.promptId);
    }
    if (task.ending) return task.ending; // the event handler got there while we were reading
    if (entry) return this.finishFromHistory(task, entry);
    // Not finished, not queued: the server restarted or someone deleted it.
    await this.forgotten(task);
  }

  private async checkTask(task: LiveTask): Promise<void> {
    const client = this.ctx.servers.clientFor(task.serverId);
    // A task ending while the server looks at its queue and then its history may be in neither
    // for that one answer: only a second unknown means a lost task.
    const state = (await client.getJob(task.promptId)) ?? (await client.getJob(task.promptId));
    if (task.ending) return task.ending;
    if (state?.entry) return this.finishFromHistory(task, state.entry);
    if (state !== null) return; // pending or in progress: its messages will come
    await this.forgotten(task);
  }

  private async forgotten(task: LiveTask): Promise<void> {
    if (await this.requeue(task)) return;
    await this.finisher.fail(task, "The ComfyUI server no longer knows this task (it restarted or the task was removed)", null);
  }

  private async finishFromHistory(task: LiveTask, entry: HistoryEntry): Promise<void> {
    // Very old servers keep no status; their entries exist only for finished runs.
    if (!entry.status || entry.status.status_str === "success") {
      const refs = Object.entries(entry.outputs ?? {})
        .filter(([node]) => task.outputNodes.has(node))
        .flatMap(([, output]) => output.images ?? []);
      return this.finisher.succeed(task, refs);
    }
    const last = lastMessage(entry);
    if (last?.type === "execution_interrupted") {
      return task.cancelRequested ? this.finisher.cancel(task) : this.finisher.fail(task, "Interrupted on the ComfyUI server", null);
    }
    const node = typeof last?.data.node_id === "string" ? last.data.node_id : null;
    const reason = typeof last?.data.exception_message === "string" ? last.data.exception_message.trim() : "the run failed";
    const type = typeof last?.data.node_type === "string" ? last.data.node_type : "a node";
    return this.finisher.fail(task, `${type}${node ? ` (node ${node})` : ""} failed: ${reason}`, node);
  }
}
