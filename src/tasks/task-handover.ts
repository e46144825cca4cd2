import { ComfyValidationError } from "../comfy/errors.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import type { TaskRow } from "../schema/index.ts";
import { imageKinds, sniffImageType } from "../upload/index.ts";
import { fillWorkflow, type WorkflowParams, type WorkflowTemplate } from "../workflows/index.ts";
import { newLiveTask } from "./live-task.ts";
import { controllerOf, type TaskContext } from "./task-context.ts";
import type { TaskFinisher } from "./task-finisher.ts";
import { endings } from "./task-lifecycle.ts";
import type { QueueReads } from "./queue-reads.ts";
import type { UpstreamWatch } from "./upstream-watch.ts";

/** How a handover ended: on the server, back in the queue (the server failed), or the task ended. */
export type HandoverOutcome = "dispatched" | "released" | "ended" | "lost_claim";

/**
 * Hands one waiting task to one server: the conditional claim (queued, no server → this server;
 * of two dispatchers exactly one wins), then its stored input uploaded, its prompt queued and the
 * prompt id recorded. A server that fails puts the task back in the queue at its place; a prompt
 * ComfyUI refuses ends the task failed with ComfyUI's reason; a task cancelled meanwhile has its
 * prompt taken back off.
 */
export class TaskHandover {
  constructor(
    private readonly ctx: TaskContext,
    private readonly watch: UpstreamWatch,
    private readonly queues: QueueReads,
    private readonly finisher: TaskFinisher,
    /** Task ids being handed over now (so the stale-claim recovery leaves them alone). */
    private readonly inFlight: Set<string>,
  ) {}

  async handOver(frontend: Frontend, row: TaskRow, template: WorkflowTemplate, serverId: string): Promise<HandoverOutcome> {
    this.inFlight.add(row.id);
    try {
      return await this.claimAndQueue(frontend, row, template, serverId);
    } finally {
      this.inFlight.delete(row.id);
    }
  }

  private async claimAndQueue(frontend: Frontend, row: TaskRow, template: WorkflowTemplate, serverId: string): Promise<HandoverOutcome> {
    const db = controllerOf(this.ctx, frontend);
    if (!(await db.claimTask(row.id, serverId, this.ctx.gatewayId))) return "lost_claim";
    let inputName: string | null = null;
    let promptId: string;
    try {
      const client = this.ctx.servers.clientFor(serverId);
      // The socket must be open before the prompt: ComfyUI does not replay messages.
      await this.watch.attach(serverId);
      if (row.inputKey) {
        const bytes = await this.ctx.storage.get(row.inputKey).catch(() => null);
        const kind = bytes ? sniffImageType(bytes) : null;
        if (!bytes || !kind) return await this.fail(frontend, row.id, "The uploaded image could not be read back from storage");
        const uploaded = await client.uploadImage({ bytes, filename: `aipack_${row.id}.${imageKinds[kind].extension}`, contentType: imageKinds[kind].contentType });
        inputName = uploaded.subfolder ? `${uploaded.subfolder}/${uploaded.name}` : uploaded.name;
      }
      // The params were checked against this template at submit, and the row keeps them as checked.
      const prompt = fillWorkflow(template, row.params as WorkflowParams, inputName ? { image: inputName } : {});
      const { clientId } = this.ctx.servers.streamFor(serverId);
      promptId = (await client.queuePrompt({ prompt, clientId, extraData: { aipack_task: row.id } })).promptId;
    } catch (error) {
      if (error instanceof ComfyValidationError) return this.fail(frontend, row.id, `ComfyUI refused the task: ${error.message}`);
      this.ctx.logger.warn("dispatch failed; the task goes back to the queue", { taskId: row.id, server: serverId, error: String(error) });
      await db.releaseTask(row.id, serverId).catch(() => false);
      return "released";
    }
    this.queues.invalidate(serverId);
    let markRecorded!: () => void;
    const recorded = new Promise<void>((resolve) => (markRecorded = resolve));
    const task = newLiveTask(
      { frontend, taskId: row.id, serverId, promptId, outputNodes: new Set(template.outputs), totalNodes: Object.keys(template.prompt).length },
      recorded,
    );
    this.watch.follow(task);
    try {
      if (await db.recordDispatch(row.id, serverId, promptId, inputName)) return "dispatched";
    } catch (error) {
      // The database is away: the prompt is taken back; the claim stays and is recovered as stale.
      this.ctx.logger.warn("could not record a dispatch; the prompt is taken back", { taskId: row.id, error: String(error) });
    } finally {
      markRecorded();
    }
    // Cancelled (or ended) while it was being handed over: it must not run.
    this.ctx.live.remove(task);
    const client = this.ctx.servers.clientFor(serverId);
    await client.deleteFromQueue([promptId]).catch(() => undefined);
    // An idle server may have started it already: stop it rather than run it for nobody.
    const queue = await this.queues.read(serverId, Date.now()).catch(() => null);
    if (queue?.running.some((item) => item.promptId === promptId)) await client.interrupt(promptId).catch(() => undefined);
    this.queues.invalidate(serverId);
    return "ended";
  }

  private async fail(frontend: Frontend, taskId: string, message: string): Promise<HandoverOutcome> {
    await this.finisher.endUnfollowed(frontend, taskId, endings.failed(taskId, message, null)).catch(() => false);
    return "ended";
  }
}
