import type { Frontend } from "../controllers/db-controller-map.ts";
import type { TaskRow } from "../schema/index.ts";
import { taskKey } from "../realtime/task-key.ts";
import { coalescedReader, type CoalescedReader } from "../lib/coalesced-reader.ts";
import { fairOrder } from "./fair-order.ts";
import type { TaskContext } from "./task-context.ts";

/** A queued task and the frontend whose database holds it. */
export interface WaitingRow {
  frontend: Frontend;
  row: TaskRow;
}

/** The gateway's queue at one instant: computed on a poll after a change, read by every poller. */
export interface QueueSnapshot {
  /** Waiting tasks in the order they will be dispatched (fair share). */
  waiting: WaitingRow[];
  /** Each waiting task's index in `waiting`, by task key. */
  position: Map<string, number>;
  /** Tasks handed to a server and not started there yet: they start before any waiting one. */
  prepared: WaitingRow[];
  /** Frontends whose database could not be read: their tasks are missing from this snapshot. */
  unreadable: Frontend[];
}

/** Rows read per frontend: the queue's bound (far above what the per-user caps let wait). */
const queueReadLimit = 10_000;

/**
 * Where each waiting task stands, for pollers (GET /api/queue). One read of every frontend's queued
 * rows and one fair ordering serve all pollers for `windowMs`: however many clients poll, a poll
 * costs a map lookup, not a sort. A local change (a submit, a dispatch, an ending) only drops the
 * snapshot; the next poll computes it, so with nobody polling the whole queue is never read (the
 * dispatcher reads only its head, see QueueHead).
 */
export class QueueOrder {
  private readonly reader: CoalescedReader<QueueSnapshot>;

  constructor(
    private readonly ctx: TaskContext,
    private readonly weights: Readonly<Record<string, number>>,
    windowMs: number,
  ) {
    this.reader = coalescedReader(() => this.compute(), { maxAgeMs: windowMs });
  }

  /** A snapshot at most a window old; with `notBefore`, one computed after that instant (ms). */
  read(notBefore?: number): Promise<QueueSnapshot> {
    return this.reader.read(notBefore);
  }

  /** The queue changed here: the next read computes again. */
  invalidate(): void {
    this.reader.invalidate();
  }

  private async compute(): Promise<QueueSnapshot> {
    const waiting: WaitingRow[] = [];
    const prepared: WaitingRow[] = [];
    const unreadable: Frontend[] = [];
    await Promise.all(
      [...this.ctx.controllers].map(async ([frontend, db]) => {
        try {
          await db.ready();
          for (const row of await db.queue.allQueued(queueReadLimit)) (row.serverId === null ? waiting : prepared).push({ frontend, row });
        } catch (error) {
          unreadable.push(frontend);
          this.ctx.logger.warn("queue order: cannot read queued tasks", { frontend, error: String(error) });
        }
      }),
    );
    const keyed = waiting.map((entry) => ({
      entry,
      frontend: entry.frontend,
      userId: entry.row.userId,
      priority: entry.row.priority,
      seq: entry.row.queueSeq,
      round: entry.row.queueRound,
      id: entry.row.id,
    }));
    const ordered = fairOrder(keyed, this.weights).map((item) => item.entry);
    const position = new Map(ordered.map((entry, index) => [taskKey(entry.frontend, entry.row.id), index]));
    return { waiting: ordered, position, prepared, unreadable };
  }
}
