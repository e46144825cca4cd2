import type { BaseDBController } from "../controllers/base-db-controller.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import { JitteredLoop } from "../lib/jittered-loop.ts";
import type { OwnerLeases } from "../realtime/owner-leases.ts";
import { finishedStatuses, type TaskRow } from "../schema/index.ts";
import type { LiveTask } from "./live-task.ts";
import type { TaskContext } from "./task-context.ts";
import type { TaskFinisher } from "./task-finisher.ts";
import { endings } from "./task-lifecycle.ts";
import { followable, type TaskResumer } from "./task-resumer.ts";
import type { UpstreamWatch } from "./upstream-watch.ts";

export interface BackgroundReconcilerOptions {
  intervalMs: number;
  /** Rows looked at per frontend and sweep: the sweep's bound. */
  batch: number;
  /** How long a server may stay unreachable before the tasks waiting on it are failed. */
  lostAfterMs: number;
}

type Action = "resumed" | "adopted" | "retried_end" | "reconciled" | "failed_unreachable";

/**
 * Drives every unfinished task to an end without waiting for a client's poll or a restart: on a
 * jittered interval it writes endings the database refused earlier (as they were: nothing is
 * fetched again), reads again the fate of tasks whose reconcile failed, follows rows that nobody
 * follows (after a start with the database down), and adopts the tasks of replicas whose lease
 * lapsed. One sweep at a time, at most `batch` rows per frontend.
 */
export class BackgroundReconciler {
  private readonly loop: JitteredLoop;
  /** Adopted tasks: their messages go to the gone replica's client id, so each sweep reads /history. */
  private readonly unheard = new Set<LiveTask>();
  private readonly unreachableSince = new Map<string, number>();
  private counts = new Map<Action, number>();

  constructor(
    private readonly ctx: TaskContext,
    private readonly parts: { resumer: TaskResumer; watch: UpstreamWatch; finisher: TaskFinisher; leases: OwnerLeases },
    private readonly options: BackgroundReconcilerOptions,
  ) {
    this.loop = new JitteredLoop(() => this.sweep(), {
      intervalMs: options.intervalMs,
      onError: (error) => ctx.logger.error("reconciler sweep failed", { error: String(error) }),
    });
  }

  /** Sweeps now, then on the interval. */
  start(): Promise<void> {
    this.loop.start();
    return this.loop.runNow();
  }

  close(): void {
    this.loop.stop();
  }

  private async sweep(): Promise<void> {
    this.counts = new Map();
    await this.parts.leases.renew().catch((error: unknown) => this.ctx.logger.warn("could not renew this replica's lease", { error: String(error) }));
    const unrecorded = this.parts.finisher.unrecorded().slice(0, this.options.batch);
    await Promise.all(unrecorded.map((task) => this.act("retried_end", this.parts.finisher.retryUnrecorded(task))));
    await this.retryDoubtful();
    for (const task of this.unheard) {
      if (this.ctx.live.byTaskKey(task.frontend, task.taskId) !== task) this.unheard.delete(task);
      else await this.parts.watch.reconcile(task);
    }
    for (const [frontend, db] of this.ctx.controllers) await this.sweepRows(frontend, db);
    const acted = Object.fromEntries(this.counts);
    if (this.counts.size > 0) this.ctx.logger.info("reconciler sweep", acted);
  }

  private async act(action: Action, work: Promise<unknown>): Promise<void> {
    await work;
    this.counts.set(action, (this.counts.get(action) ?? 0) + 1);
    this.ctx.metrics.reconcilerActions.inc({ action });
  }

  /** Tasks whose server did not answer a reconcile: again, or failed once it stayed away too long. */
  private async retryDoubtful(): Promise<void> {
    const now = Date.now();
    // One unanswered read per server and sweep: a hanging server does not hold the sweep for each of its tasks.
    const silent = new Set<string>();
    for (const [task, since] of this.parts.watch.inDoubt().slice(0, this.options.batch)) {
      if (now - since < this.options.lostAfterMs) {
        if (silent.has(task.serverId)) continue;
        await this.act("reconciled", this.parts.watch.reconcile(task));
        if (this.parts.watch.inDoubt().some(([doubtful]) => doubtful === task)) silent.add(task.serverId);
        continue;
      }
      const message = `The ComfyUI server ${task.serverId} did not answer about this task for ${Math.round((now - since) / 1000)} s`;
      await this.act("failed_unreachable", this.parts.finisher.fail(task, message, null));
    }
  }

  private async sweepRows(frontend: Frontend, db: BaseDBController): Promise<void> {
    let rows: TaskRow[];
    try {
      rows = await db.listUnfinishedTasksOfAll(this.options.batch);
    } catch (error) {
      this.ctx.logger.warn("reconciler: cannot list unfinished tasks", { frontend, error: String(error) });
      return;
    }
    // A row queued without a prompt waits in the gateway (or is being handed over): the dispatcher's.
    const unfollowed = rows.filter((row) => !this.ctx.live.byTaskKey(frontend, row.id) && !(row.status === "queued" && row.promptId === null));
    const mine = unfollowed.filter((row) => row.gatewayId === this.ctx.gatewayId);
    const adopted = await this.adopt(frontend, db, unfollowed.filter((row) => row.gatewayId !== this.ctx.gatewayId));
    const byServer = new Map<string, Array<{ row: TaskRow; adopted: boolean }>>();
    for (const [row, isAdopted] of [...mine.map((r) => [r, false] as const), ...adopted.map((r) => [r, true] as const)]) {
      if (!followable(this.ctx, row)) {
        await this.parts.resumer.orphan(frontend, row);
        continue;
      }
      byServer.set(row.serverId, [...(byServer.get(row.serverId) ?? []), { row, adopted: isAdopted }]);
    }
    for (const [serverId, entries] of byServer) await this.followOn(frontend, db, serverId, entries);
  }

  /** Takes over the rows of owners whose lease lapsed (and rows of no owner); the guarded update lets one replica win. */
  private async adopt(frontend: Frontend, db: BaseDBController, foreign: TaskRow[]): Promise<TaskRow[]> {
    if (foreign.length === 0) return [];
    const owners = [...new Set(foreign.map((row) => row.gatewayId).filter((owner): owner is string => owner !== null))];
    const lapsed = new Set(await this.parts.leases.lapsed(owners));
    const taken: TaskRow[] = [];
    for (const row of foreign) {
      if (row.gatewayId !== null && !lapsed.has(row.gatewayId)) continue;
      if (await db.adoptTask(row.id, row.gatewayId, this.ctx.gatewayId).catch(() => false)) taken.push(row);
    }
    for (const owner of new Set(taken.map((row) => row.gatewayId))) {
      const count = taken.filter((row) => row.gatewayId === owner).length;
      this.ctx.logger.info("reconciler adopted tasks", { frontend, from: owner, count });
    }
    return taken;
  }

  /** Follows rows once their server's stream is open (so no ending falls in between), then reads each one's fate. */
  private async followOn(frontend: Frontend, db: BaseDBController, serverId: string, entries: Array<{ row: TaskRow; adopted: boolean }>): Promise<void> {
    const attached = await this.parts.watch.attach(serverId).then(() => true, () => false);
    if (!attached) {
      const since = this.unreachableSince.get(serverId) ?? Date.now();
      this.unreachableSince.set(serverId, since);
      if (Date.now() - since < this.options.lostAfterMs) return;
      const message = `The ComfyUI server ${serverId} did not come back`;
      for (const { row } of entries) await this.act("failed_unreachable", this.parts.finisher.endUnfollowed(frontend, row.id, endings.failed(row.id, message, null)).catch(() => false));
      return;
    }
    this.unreachableSince.delete(serverId);
    for (const { row, adopted } of entries) {
      // Read again: its ending may have been recorded (and its LiveTask let go) since the listing.
      const fresh = await db.getTask(row.id).catch(() => undefined);
      if (!fresh || finishedStatuses.includes(fresh.status) || this.ctx.live.byTaskKey(frontend, row.id)) continue;
      const task = this.parts.resumer.followRow(frontend, fresh);
      if (!task) continue;
      if (adopted) this.unheard.add(task);
      await this.act(adopted ? "adopted" : "resumed", this.parts.watch.reconcile(task));
    }
  }
}
