import { aheadOf } from "../comfy/comfy-client.ts";
import type { TaskRow } from "../schema/index.ts";
import type { WorkflowTemplate } from "../workflows/index.ts";
import { requirements } from "./unservable-tasks.ts";
import type { WaitingRow } from "./queue-order.ts";
import type { QueueReads } from "./queue-reads.ts";
import { controllerOf, type TaskContext } from "./task-context.ts";
import type { TaskHandover } from "./task-handover.ts";

/** Rows read per frontend: far above what the servers' depth lets be on them. */
const onServersReadLimit = 1_000;

/**
 * Work-conserving dispatch. A task handed to a server waits there behind that server's running job;
 * when another server goes idle with nothing in the gateway it can take, the task would go on
 * waiting while a GPU does nothing. The idle server takes it back instead: the prepared task that
 * has waited longest among those with another task ahead of them on their server, if its workflow
 * can run there.
 *
 * Exactly once: the prompt is deleted from its server's queue, and only a fresh `/queue` read that
 * lists it neither pending nor running, and a `/history` that does not have it, say it will not run
 * there. Then its row goes back to the gateway's queue (it keeps its place), it is no longer
 * followed on the old server, and it is handed to the idle one. A prompt the server started
 * meanwhile stays where it is; so does one whose fate cannot be read (the reconciler settles it).
 */
export class PreparedRebalance {
  /**
   * Prompts a take-back was tried on and that stayed (they started, ended, or could not be read):
   * not tried again, so a server whose messages lag behind is not asked on every pass.
   */
  private readonly tried = new Set<string>();

  constructor(
    private readonly ctx: TaskContext,
    private readonly parts: { handover: TaskHandover; queues: QueueReads },
  ) {}

  /**
   * Called after a dispatch pass with the servers still idle (nothing on them, up, and nothing
   * waiting that they can take). True when a task moved: the server it left has room again.
   */
  async fillIdle(idle: readonly string[]): Promise<boolean> {
    if (idle.length === 0) return false;
    const stuck = await this.stuckBehindOthers();
    const keys = new Set(stuck.map(({ row }) => `${row.serverId}|${row.promptId}`));
    for (const key of this.tried) if (!keys.has(key)) this.tried.delete(key);
    const candidates = stuck.filter(({ row }) => !this.tried.has(`${row.serverId}|${row.promptId}`));
    let moved = false;
    for (const serverId of idle) {
      // Each candidate is tried once: one that stayed (it started meanwhile) is not tried again.
      let index = 0;
      while (index < candidates.length) {
        const candidate = candidates[index]!;
        const template = this.ctx.workflows.get(candidate.frontend, candidate.row.workflow);
        if (!template || candidate.row.serverId === serverId || !(await this.canRun(template, serverId))) {
          index += 1;
          continue;
        }
        candidates.splice(index, 1);
        if (await this.move(candidate, template, serverId)) {
          moved = true;
          break;
        }
      }
    }
    return moved;
  }

  /** Prepared tasks with another task ahead of them on their server, longest waiting first. */
  private async stuckBehindOthers(): Promise<WaitingRow[]> {
    const byServer = new Map<string, WaitingRow[]>();
    for (const [frontend, db] of this.ctx.controllers) {
      // A frontend whose database is away is left out: its tasks stay where they are.
      const rows = await db.listTasksOnServers(onServersReadLimit).catch(() => [] as TaskRow[]);
      for (const row of rows) {
        if (row.serverId === null) continue;
        const line = byServer.get(row.serverId);
        if (line) line.push({ frontend, row });
        else byServer.set(row.serverId, [{ frontend, row }]);
      }
    }
    const stuck: WaitingRow[] = [];
    for (const line of byServer.values()) {
      // The server's line: its running task, then its prepared ones in the order they were handed
      // over. The first of it runs (or is about to, on a server that just finished one): only those
      // behind it wait.
      line.sort((a, b) => rank(a.row) - rank(b.row) || time(a.row.dispatchedAt) - time(b.row.dispatchedAt));
      stuck.push(...line.slice(1).filter(({ row }) => row.status === "queued" && row.promptId !== null));
    }
    return stuck.sort((a, b) => time(a.row.createdAt) - time(b.row.createdAt) || a.row.queueSeq - b.row.queueSeq);
  }

  private async canRun(template: WorkflowTemplate, serverId: string): Promise<boolean> {
    return (await this.ctx.servers.eligibleFor(requirements(template))).includes(serverId);
  }

  /** Takes the task off its server if it has not started there, and hands it to `to`. */
  private async move({ frontend, row }: WaitingRow, template: WorkflowTemplate, to: string): Promise<boolean> {
    const from = row.serverId;
    const promptId = row.promptId;
    const live = this.ctx.live.byTaskKey(frontend, row.id);
    // Only a task this replica follows, as the row says, and that nobody is ending or cancelling.
    if (from === null || promptId === null || !live || live.serverId !== from || live.promptId !== promptId || live.cancelRequested || live.ending) return false;
    this.tried.add(`${from}|${promptId}`);
    if (!(await this.takenOff(from, promptId))) return false;
    const db = controllerOf(this.ctx, frontend);
    // Guarded on (queued, this server): false when it ended meanwhile (a cancel) or another path
    // (a reconcile that found it gone) put it back already; the dispatcher then finds it waiting.
    if (!(await db.releaseTask(row.id, from).catch(() => false))) return false;
    this.ctx.live.remove(live);
    this.ctx.logger.info("a prepared task moved to an idle server", { taskId: row.id, from, to });
    const fresh = await db.getTask(row.id).catch(() => undefined);
    if (fresh) await this.parts.handover.handOver(frontend, fresh, template, to);
    return true;
  }

  /** Deletes the prompt from the server's queue; true only when it is sure not to run there. */
  private async takenOff(serverId: string, promptId: string): Promise<boolean> {
    const client = this.ctx.servers.clientFor(serverId);
    try {
      await client.deleteFromQueue([promptId]);
      this.parts.queues.invalidate(serverId);
      // Read after the delete: a prompt the server started first is running (a delete does not
      // stop it), one that ran to its end already is in history.
      if (aheadOf(await client.getQueue(), promptId) !== null) return false;
      return (await client.getHistory(promptId)) === null;
    } catch (error) {
      this.ctx.logger.warn("could not take a prepared task back from its server; it stays there", { server: serverId, promptId, error: String(error) });
      return false;
    }
  }
}

/** Running tasks come first in a server's line. */
function rank(row: TaskRow): number {
  return row.status === "running" ? 0 : 1;
}

function time(date: Date | null): number {
  return date?.getTime() ?? 0;
}
