import { JitteredLoop } from "../lib/jittered-loop.ts";
import type { DispatchLease } from "../realtime/dispatch-lease.ts";
import type { TaskContext } from "./task-context.ts";
import type { TaskFinisher } from "./task-finisher.ts";
import type { TaskHandover } from "./task-handover.ts";
import type { QueueHead } from "./queue-head.ts";
import type { QueueOrder, WaitingRow } from "./queue-order.ts";
import type { StaleClaims } from "./stale-claims.ts";
import type { PreparedRebalance } from "./prepared-rebalance.ts";
import { UnservableTasks } from "./unservable-tasks.ts";

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
 * runs one more. No ComfyUI is polled: room is counted from the database, first: while no server
 * has room, a pass reads no waiting task, so its cost does not grow with the queue.
 */
export class Dispatcher {
  private readonly rescan: JitteredLoop;
  private leaseTimer: ReturnType<typeof setInterval> | null = null;
  private leader = false;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly pausedUntil = new Map<string, number>();
  private readonly unservable: UnservableTasks;
  /** The last pass ended with no server that may be given tasks having a free slot. */
  private noRoomSeen = false;
  /** The rescan's pass also looks for waiting tasks no live server can take (the first pass too). */
  private sweepDue = true;

  constructor(
    private readonly ctx: TaskContext,
    private readonly parts: {
      order: QueueOrder;
      head: QueueHead;
      handover: TaskHandover;
      finisher: TaskFinisher;
      lease: DispatchLease;
      stale: StaleClaims;
      rebalance?: PreparedRebalance;
    },
    private readonly options: DispatcherOptions,
  ) {
    this.unservable = new UnservableTasks(ctx, parts.finisher, options.maxWaitMs, (serverId) => this.dispatchable(serverId));
    this.rescan = new JitteredLoop(
      async () => {
        this.sweepDue = true;
        this.wake();
      },
      { intervalMs: options.rescanMs, onError: () => undefined },
    );
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

  /**
   * A task was just submitted. A pass reads no waiting row while no server has room, so a task that
   * no live server can take (none up, or none with its tags) is told so here, at once, not at the
   * next rescan; then a pass runs as for any change.
   */
  arrived(waiting: WaitingRow): void {
    if (!this.leader || this.closed) return;
    const template = this.ctx.workflows.get(waiting.frontend, waiting.row.workflow);
    if (template) {
      void this.unservable
        .liveFor(template)
        .then((live) => (live.length === 0 ? this.unservable.noServer(waiting, template) : undefined))
        .catch(() => undefined);
    }
    // A new task cannot go anywhere while the last pass left no server with room: only an ending,
    // a cancel, a server coming up (their own wakes) or the rescan can make some. Skipping spares a
    // saturated pool four queries per submit. A pass under way may have read the queue before this
    // task: it runs once more.
    if (this.noRoomSeen && !this.running) return;
    this.wake();
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
    this.ctx.metrics.dispatchPasses.inc();
    await this.parts.stale.recover(await this.parts.head.prepared());
    if (this.sweepDue) {
      this.sweepDue = false;
      await this.unservable.sweep();
    }
    const room = await this.roomByServer();
    const eligibleCache = new Map<string, Promise<string[]>>();
    const handovers: Array<Promise<unknown>> = [];
    const lanes = new Map<string, Promise<unknown>>();
    // No server with room: the waiting queue is not read at all, however long it is. With room,
    // the head is read page by page only as far as this loop goes.
    for await (const waiting of this.anyRoom(room) ? this.parts.head.waiting() : []) {
      if (!this.anyRoom(room)) break;
      const template = this.ctx.workflows.get(waiting.frontend, waiting.row.workflow);
      if (!template) {
        handovers.push(this.unservable.end(waiting, `Its workflow "${waiting.row.workflow}" is no longer configured`));
        continue;
      }
      const cacheKey = `${waiting.frontend}/${template.name}`;
      if (!eligibleCache.has(cacheKey)) eligibleCache.set(cacheKey, this.unservable.liveFor(template));
      const eligible = await eligibleCache.get(cacheKey)!;
      if (eligible.length === 0) {
        handovers.push(this.unservable.noServer(waiting, template));
        continue;
      }
      this.unservable.servable(waiting.row.id);
      // The eligible server with the most room per weight: work goes where it starts soonest.
      const withRoom = eligible.filter((id) => (room.get(id) ?? 0) > 0);
      const serverId = withRoom.sort((a, b) => (room.get(b) ?? 0) / this.ctx.servers.weightOf(b) - (room.get(a) ?? 0) / this.ctx.servers.weightOf(a))[0];
      if (!serverId) continue; // it waits at its place; a later task may fit a server with room
      room.set(serverId, (room.get(serverId) ?? 0) - 1);
      // One server's handovers go one after the other, so its ComfyUI queues them in the gateway's
      // order (sent at once, the prompts could arrive swapped); different servers' go in parallel.
      const handover = (lanes.get(serverId) ?? Promise.resolve())
        .then(() => this.parts.handover.handOver(waiting.frontend, waiting.row, template, serverId))
        .then((outcome) => {
          if (outcome === "released") this.pausedUntil.set(serverId, Date.now() + failedServerPauseMs);
          if (outcome !== "lost_claim") this.again = true;
        });
      lanes.set(serverId, handover.catch(() => undefined));
      handovers.push(handover);
    }
    await Promise.all(handovers);
    this.noRoomSeen = !this.anyRoom(room);
    // A server still idle has nothing waiting that it can take: it takes a task prepared behind another server's job.
    const idle = [...room].filter(([id, free]) => free > this.options.depth && this.dispatchable(id)).map(([id]) => id);
    const moved = this.parts.rebalance ? await this.parts.rebalance.fillIdle(idle) : false;
    if (moved) this.again = true;
    // Pollers' positions are computed again on their next poll (never here: nobody may poll).
    if (handovers.length > 0 || moved) this.parts.order.invalidate();
  }

  /** Whether a server that may be given tasks now has a free slot. */
  private anyRoom(room: ReadonlyMap<string, number>): boolean {
    for (const [serverId, free] of room) if (free > 0 && this.dispatchable(serverId)) return true;
    return false;
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
}
