import { JitteredLoop } from "../lib/jittered-loop.ts";
import type { DispatchLease } from "../realtime/dispatch-lease.ts";
import type { WorkflowTemplate } from "../workflows/index.ts";
import { controllerOf, type TaskContext } from "./task-context.ts";
import type { TaskFinisher } from "./task-finisher.ts";
import { endings } from "./task-lifecycle.ts";
import type { TaskHandover } from "./task-handover.ts";
import type { QueueOrder, WaitingRow } from "./queue-order.ts";
import type { StaleClaims } from "./stale-claims.ts";
import type { PreparedRebalance } from "./prepared-rebalance.ts";

export interface DispatcherOptions {
  /** Tasks handed to a server beyond the one it runs. */
  depth: number;
  /** A task no live server can take fails after waiting this long (ms, on the context's clock). */
  maxWaitMs: number;
  /** The safety rescan of the database, for changes made on other replicas. */
  rescanMs: number;
  /** The lease's TTL: it is renewed (or tried for) every third of it. */
  leaseMs: number;
}

/** A server that failed a handover is left alone this long (its health check may not know yet). */
const failedServerPauseMs = 1_000;

/**
 * Hands the tasks waiting in the gateway to servers, in the fair order, only to a server with
 * room: its running task plus at most `depth` prepared ones, counted from the rows of every
 * replica. Only the replica holding the dispatch lease dispatches. A pass runs when something
 * changes (a submit, an ending, a cancel, a server or its stream coming up; `wake`), and on a slow
 * rescan that catches what other replicas changed; one pass at a time, and a wake during a pass
 * runs one more. No ComfyUI is polled: room is counted from the database.
 */
export class Dispatcher {
  private readonly rescan: JitteredLoop;
  private leaseTimer: ReturnType<typeof setInterval> | null = null;
  private leader = false;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly pausedUntil = new Map<string, number>();
  /** Since when (the context's clock, ms) each waiting task has had no live server able to take it. */
  private readonly unservableSince = new Map<string, number>();

  constructor(
    private readonly ctx: TaskContext,
    private readonly parts: { order: QueueOrder; handover: TaskHandover; finisher: TaskFinisher; lease: DispatchLease; stale: StaleClaims; rebalance?: PreparedRebalance },
    private readonly options: DispatcherOptions,
  ) {
    this.rescan = new JitteredLoop(async () => this.wake(), { intervalMs: options.rescanMs, onError: () => undefined });
  }

  /** Tries for the lease now and on its timer, and dispatches while it holds it. */
  async start(): Promise<void> {
    const tryLease = async () => {
      const held = await this.parts.lease.acquire();
      if (held !== this.leader) this.ctx.logger.info(held ? "this replica dispatches the queue" : "this replica no longer dispatches", {});
      this.leader = held;
      if (held) this.wake();
    };
    this.leaseTimer = setInterval(() => void tryLease(), Math.max(100, Math.floor(this.options.leaseMs / 3)));
    this.leaseTimer.unref?.();
    this.rescan.start();
    await tryLease();
    await this.running;
  }

  /** Something changed: dispatch soon (joins a pass under way by running one more after it). */
  wake(): void {
    if (!this.leader || this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((error: unknown) => this.ctx.logger.error("dispatch pass failed", { error: String(error) }))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Resolves once no pass is running (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.rescan.stop();
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    await this.idle();
    await this.parts.lease.release();
  }

  private async pass(): Promise<void> {
    this.parts.order.invalidate();
    const snapshot = await this.parts.order.read();
    await this.parts.stale.recover(snapshot.prepared);
    const room = await this.roomByServer();
    const eligibleCache = new Map<string, Promise<string[]>>();
    const handovers: Array<Promise<unknown>> = [];
    for (const waiting of snapshot.waiting) {
      if (![...room.values()].some((free) => free > 0)) break;
      const template = this.ctx.workflows.get(waiting.frontend, waiting.row.workflow);
      if (!template) {
        handovers.push(this.end(waiting, `Its workflow "${waiting.row.workflow}" is no longer configured`));
        continue;
      }
      const cacheKey = `${waiting.frontend}/${template.name}`;
      if (!eligibleCache.has(cacheKey)) eligibleCache.set(cacheKey, this.ctx.servers.eligibleFor(requirements(template)));
      const eligible = (await eligibleCache.get(cacheKey)!).filter((id) => this.dispatchable(id));
      if (eligible.length === 0) {
        handovers.push(this.noServer(waiting, template));
        continue;
      }
      this.unservableSince.delete(waiting.row.id);
      // The eligible server with the most room per weight: work goes where it starts soonest.
      const withRoom = eligible.filter((id) => (room.get(id) ?? 0) > 0);
      const serverId = withRoom.sort((a, b) => (room.get(b) ?? 0) / this.ctx.servers.weightOf(b) - (room.get(a) ?? 0) / this.ctx.servers.weightOf(a))[0];
      if (!serverId) continue; // it waits at its place; a later task may fit a server with room
      room.set(serverId, (room.get(serverId) ?? 0) - 1);
      handovers.push(
        this.parts.handover.handOver(waiting.frontend, waiting.row, template, serverId).then((outcome) => {
          if (outcome === "released") this.pausedUntil.set(serverId, Date.now() + failedServerPauseMs);
          if (outcome !== "lost_claim") this.again = true;
        }),
      );
    }
    await Promise.all(handovers);
    // Forget tasks that left the queue (cancelled, ended) while no server could take them.
    const waitingIds = new Set(snapshot.waiting.map((entry) => entry.row.id));
    for (const id of this.unservableSince.keys()) if (!waitingIds.has(id)) this.unservableSince.delete(id);
    // A server still idle has nothing waiting that it can take: it takes a task prepared behind another server's job.
    const idle = [...room].filter(([id, free]) => free > this.options.depth && this.dispatchable(id)).map(([id]) => id);
    if (this.parts.rebalance && (await this.parts.rebalance.fillIdle(idle))) this.again = true;
    this.parts.order.invalidate();
  }

  /** Free slots per server: depth + 1 less what the rows say is queued there or running. */
  private async roomByServer(): Promise<Map<string, number>> {
    const active = new Map<string, number>();
    for (const [frontend, db] of this.ctx.controllers) {
      // A frontend whose database is away cannot be counted: the others' tasks still go out (at
      // worst a server gets that frontend's few tasks more than its depth).
      const counts = await db.ready().then(() => db.countActiveByServer()).catch((error: unknown) => {
        this.ctx.logger.warn("dispatcher: cannot count a frontend's tasks on servers", { frontend, error: String(error) });
        return new Map<string, number>();
      });
      for (const [serverId, total] of counts) active.set(serverId, (active.get(serverId) ?? 0) + total);
    }
    return new Map(this.ctx.servers.ids().map((id) => [id, this.options.depth + 1 - (active.get(id) ?? 0)]));
  }

  /** Up (by its health check), its event stream open, and not paused after a failed handover. */
  private dispatchable(serverId: string): boolean {
    if ((this.pausedUntil.get(serverId) ?? 0) > Date.now()) return false;
    const stream = this.ctx.servers.streamFor(serverId);
    return stream.connected;
  }

  /** No live server can take the task: say why on its row, and fail it once it waited too long. */
  private async noServer(waiting: WaitingRow, template: WorkflowTemplate): Promise<void> {
    const reason = await this.whyNone(template);
    // The wait counts from when no server could take it, not from the submit: a task that queued
    // behind others for long is not failed by a short outage.
    const now = this.ctx.clock.now().getTime();
    const since = this.unservableSince.get(waiting.row.id) ?? now;
    this.unservableSince.set(waiting.row.id, since);
    const waited = now - since;
    if (waited >= this.options.maxWaitMs) {
      this.unservableSince.delete(waiting.row.id);
      return this.end(waiting, `No ComfyUI server could take this task within ${Math.round(this.options.maxWaitMs / 1000)} s: ${reason}`);
    }
    if (waiting.row.waitReason !== reason) await controllerOf(this.ctx, waiting.frontend).setWaitReason(waiting.row.id, reason).catch(() => undefined);
  }

  /** The first requirement no live server meets, in words a client can act on. */
  private async whyNone(template: WorkflowTemplate): Promise<string> {
    const live = async (request: Parameters<TaskContext["servers"]["eligibleFor"]>[0]) =>
      (await this.ctx.servers.eligibleFor(request)).filter((id) => this.dispatchable(id)).length > 0;
    const tags = [...template.requiredTags];
    if (!(await live({}))) return "no ComfyUI server is up";
    if (!(await live({ requiredTags: tags }))) return `no server that is up has the tags ${tags.join(", ")} this workflow needs`;
    if (!(await live({ requiredTags: tags, requiredModels: [...template.requiresModels] }))) {
      return `no server that is up has the model files ${[...template.requiresModels].join(", ")} this workflow needs`;
    }
    return "no server that is up has the node classes this workflow needs";
  }

  private async end(waiting: WaitingRow, message: string): Promise<void> {
    const ending = endings.failed(waiting.row.id, message, null);
    await this.parts.finisher.endUnfollowed(waiting.frontend, waiting.row.id, ending).catch(() => false);
  }
}

/** What a server must have to run the template: what `eligibleFor` asks. */
export function requirements(template: WorkflowTemplate) {
  return { requiredTags: [...template.requiredTags], requiredNodes: [...template.requiredNodes], requiredModels: [...template.requiresModels] };
}
