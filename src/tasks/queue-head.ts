import type { BaseDBController } from "../controllers/base-db-controller.ts";
import type { Frontend } from "../controllers/db-controller-map.ts";
import type { TaskRow } from "../schema/index.ts";
import { fairOrder } from "./fair-order.ts";
import type { WaitingRow } from "./queue-order.ts";
import type { TaskContext } from "./task-context.ts";

/** One frontend's waiting tasks as read so far, in its own order. */
interface Lane {
  frontend: Frontend;
  db: BaseDBController;
  rows: TaskRow[];
  /** Its database has no more waiting tasks after `rows`. */
  done: boolean;
}

/**
 * The head of the gateway's queue, for the dispatcher: the waiting tasks in the fair order, read a
 * page per frontend at a time and only as far as the caller goes. A frontend's next page is read
 * only when the merged order reaches the end of what was read of it, so a pass that places a few
 * tasks reads a few rows, however long the queue.
 */
export class QueueHead {
  constructor(
    private readonly ctx: TaskContext,
    private readonly weights: Readonly<Record<string, number>>,
    /** Rows read per frontend and page. */
    private readonly pageSize: number,
  ) {}

  /** The waiting tasks in the fair order; stop iterating and no more is read. */
  async *waiting(): AsyncGenerator<WaitingRow> {
    const lanes = [...this.ctx.controllers].map(([frontend, db]): Lane => ({ frontend, db, rows: [], done: false }));
    await Promise.all(lanes.map((lane) => this.readMore(lane)));
    let emitted = 0;
    for (;;) {
      const { order, valid } = this.mergedPrefix(lanes);
      for (; emitted < valid; emitted += 1) yield order[emitted]!;
      // The merged order is known up to where a lane with more rows runs out of what was read.
      const used = new Map<Frontend, number>();
      for (const entry of order.slice(0, valid)) used.set(entry.frontend, (used.get(entry.frontend) ?? 0) + 1);
      const starved = lanes.filter((lane) => !lane.done && (used.get(lane.frontend) ?? 0) === lane.rows.length);
      if (starved.length === 0) return;
      await Promise.all(starved.map((lane) => this.readMore(lane)));
    }
  }

  /**
   * The fair order of the rows read, and how much of it is the queue's true order: up to and with
   * the last read row of the first lane that has more to read (past it, that lane's next row may
   * come first). Stride scheduling over lane prefixes gives the order's prefix.
   */
  private mergedPrefix(lanes: readonly Lane[]): { order: WaitingRow[]; valid: number } {
    const keyed = lanes.flatMap((lane) =>
      lane.rows.map((row) => ({ entry: { frontend: lane.frontend, row }, frontend: lane.frontend, userId: row.userId, priority: row.priority, seq: row.queueSeq, round: row.queueRound, id: row.id })),
    );
    const order = fairOrder(keyed, this.weights).map((item) => item.entry);
    const left = new Map(lanes.map((lane) => [lane.frontend, lane.rows.length]));
    const open = new Set(lanes.filter((lane) => !lane.done).map((lane) => lane.frontend));
    for (const [index, entry] of order.entries()) {
      const remaining = left.get(entry.frontend)! - 1;
      left.set(entry.frontend, remaining);
      if (remaining === 0 && open.has(entry.frontend)) return { order, valid: index + 1 };
    }
    // A lane with more to read and nothing read yet (its reads failed, or an empty page) limits nothing.
    return { order, valid: order.length };
  }

  /** The tasks queued on servers and not started there, of every frontend whose database answers. */
  async prepared(): Promise<WaitingRow[]> {
    const perFrontend = await Promise.all(
      [...this.ctx.controllers].map(async ([frontend, db]) => {
        try {
          await db.ready();
          return (await db.queue.prepared()).map((row) => ({ frontend, row }));
        } catch (error) {
          this.ctx.logger.warn("dispatcher: cannot read a frontend's prepared tasks", { frontend, error: String(error) });
          return [];
        }
      }),
    );
    return perFrontend.flat();
  }

  /** The lane's next page; a database that cannot be read leaves its lane out of this pass. */
  private async readMore(lane: Lane): Promise<void> {
    try {
      await lane.db.ready();
      const last = lane.rows.at(-1) ?? null;
      const page = await lane.db.queue.waitingPage(this.pageSize, last);
      this.ctx.metrics.dispatchRowsRead.inc({ frontend: lane.frontend }, page.length);
      lane.rows.push(...page);
      if (page.length < this.pageSize) lane.done = true;
    } catch (error) {
      lane.done = true;
      this.ctx.logger.warn("dispatcher: cannot read a frontend's waiting tasks", { frontend: lane.frontend, error: String(error) });
    }
  }
}
