import type { Frontend } from "../controllers/db-controller-map.ts";
import type { WaitingRow } from "./queue-order.ts";
import { controllerOf, type TaskContext } from "./task-context.ts";

/** A claim of another dispatcher (a lapsed lease) is left this long before it is taken for dead. */
const foreignClaimGraceMs = 30_000;

/**
 * Claims a dispatcher made and never finished (it died between binding a task to a server and
 * recording its prompt): the task would stay queued forever. The current dispatcher looks for the
 * prompt in that server's queue by the task id ComfyUI keeps in its extra data: one still pending
 * is taken off, and the task goes back to the queue; one already running is recorded, and followed
 * from then on like any adopted task. A claim of this replica that it is not making now is from
 * before its restart and is recovered at once; another replica's, after a grace period.
 */
export class StaleClaims {
  /** Claims this replica is making now (task ids). */
  readonly inFlight = new Set<string>();

  constructor(private readonly ctx: TaskContext) {}

  async recover(prepared: readonly WaitingRow[]): Promise<void> {
    const now = Date.now();
    const stale = prepared.filter(({ row }) => {
      if (row.promptId !== null || row.serverId === null || this.inFlight.has(row.id)) return false;
      if (row.gatewayId === this.ctx.gatewayId) return true;
      return now - (row.dispatchedAt?.getTime() ?? 0) > foreignClaimGraceMs;
    });
    for (const { frontend, row } of stale) await this.recoverOne(frontend, row).catch((error: unknown) => this.ctx.logger.warn("could not recover a stale claim", { taskId: row.id, error: String(error) }));
  }

  private async recoverOne(frontend: Frontend, row: WaitingRow["row"]): Promise<void> {
    if (row.serverId === null) return;
    const db = controllerOf(this.ctx, frontend);
    const client = this.ctx.servers.clientFor(row.serverId);
    const queue = await client.getQueue().catch(() => null);
    const running = queue?.running.find((item) => item.taskId === row.id);
    if (running) {
      await db.recordDispatch(row.id, row.serverId, running.promptId, null);
      return;
    }
    const pending = queue?.pending.filter((item) => item.taskId === row.id).map((item) => item.promptId) ?? [];
    if (pending.length > 0) await client.deleteFromQueue(pending);
    if (await db.releaseTask(row.id, row.serverId)) this.ctx.logger.info("a stale dispatch claim went back to the queue", { taskId: row.id });
  }
}
