import { and, asc, count, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, or, type SQL } from "drizzle-orm";
import type { Database } from "../db/database.ts";
import type { TaskRow } from "../schema/index.ts";

/** Where a page of the waiting queue ended: the next page starts after this task. */
export type WaitingCursor = Pick<TaskRow, "priority" | "queueRound" | "queueSeq" | "id">;

/**
 * A frontend's gateway queue in its own database: the tasks waiting for a server (queued, none
 * yet) and those prepared on one (queued there, not started). Every read here is bounded by its
 * page, not by the length of the queue, and runs on the (status, server_id, priority,
 * queue_round, queue_seq, id) index.
 */
export class QueueDBController {
  constructor(private readonly database: Database) {}

  private get photos() {
    return this.database.tables.photos;
  }

  private get waiting(): SQL {
    return and(eq(this.photos.status, "queued"), isNull(this.photos.serverId))!;
  }

  /**
   * Up to `limit` waiting tasks in this frontend's order (priority from the highest, then round,
   * submit sequence, id: the fair order's `withinFrontend`), after `after` when given. Read one
   * priority level at a time, each in the index's own (ascending) order: a single ORDER BY
   * priority DESC, queue_round ASC would sort every waiting row first.
   */
  async waitingPage(limit: number, after: WaitingCursor | null = null): Promise<TaskRow[]> {
    const page: TaskRow[] = [];
    let level = after ? after.priority : await this.levelBelow(null);
    let within = after;
    while (level !== null && page.length < limit) {
      const conditions = [this.waiting, eq(this.photos.priority, level)];
      if (within) conditions.push(this.after(within));
      const rows = await this.database.db
        .select()
        .from(this.photos)
        .where(and(...conditions))
        .orderBy(asc(this.photos.queueRound), asc(this.photos.queueSeq), asc(this.photos.id))
        .limit(limit - page.length);
      page.push(...rows);
      if (page.length >= limit) break;
      level = await this.levelBelow(level);
      within = null;
    }
    return page;
  }

  /** Tasks queued on a server and not started there: few (servers × (depth + 1), and stale claims). */
  async prepared(): Promise<TaskRow[]> {
    return this.database.db
      .select()
      .from(this.photos)
      .where(and(eq(this.photos.status, "queued"), isNotNull(this.photos.serverId)))
      .orderBy(asc(this.photos.queueSeq), asc(this.photos.id));
  }

  /**
   * Every queued task, waiting or prepared, at most `limit`, in one statement: one consistent view,
   * so a task dispatched while the queue is read is seen once, waiting or prepared, never as both
   * (two reads would count it twice in a poll's `ahead`). For pollers' positions, not the dispatcher.
   */
  async allQueued(limit: number): Promise<TaskRow[]> {
    return this.database.db.select().from(this.photos).where(eq(this.photos.status, "queued")).orderBy(asc(this.photos.queueSeq), asc(this.photos.id)).limit(limit);
  }

  /** How many tasks are queued, waiting or prepared (admission's bound on the gateway's queue). */
  async countQueued(): Promise<number> {
    const [row] = await this.database.db.select({ total: count(this.photos.id) }).from(this.photos).where(eq(this.photos.status, "queued"));
    return Number(row?.total ?? 0);
  }

  /** The workflows of the waiting tasks: the dispatcher's rescan looks for those no server can take. */
  async waitingWorkflows(): Promise<string[]> {
    const rows = await this.database.db.selectDistinct({ workflow: this.photos.workflow }).from(this.photos).where(this.waiting);
    return rows.map((row) => row.workflow);
  }

  /** Up to `limit` waiting tasks of these workflows, oldest first. */
  async waitingOf(workflows: readonly string[], limit: number): Promise<TaskRow[]> {
    if (workflows.length === 0) return [];
    return this.database.db
      .select()
      .from(this.photos)
      .where(and(this.waiting, inArray(this.photos.workflow, [...workflows])))
      .orderBy(asc(this.photos.queueSeq), asc(this.photos.id))
      .limit(limit);
  }

  /** The highest priority level with a waiting task, below `level` when given; null: none. */
  private async levelBelow(level: number | null): Promise<number | null> {
    const [row] = await this.database.db
      .select({ priority: this.photos.priority })
      .from(this.photos)
      .where(level === null ? this.waiting : and(this.waiting, lt(this.photos.priority, level)))
      .orderBy(desc(this.photos.priority))
      .limit(1);
    return row ? row.priority : null;
  }

  /** After the cursor within its level. The leading `>=` gives both engines a range to seek to. */
  private after(cursor: WaitingCursor): SQL {
    const { queueRound: round, queueSeq: seq, id } = this.photos;
    return and(
      gte(round, cursor.queueRound),
      or(gt(round, cursor.queueRound), and(eq(round, cursor.queueRound), or(gt(seq, cursor.queueSeq), and(eq(seq, cursor.queueSeq), gt(id, cursor.id))))),
    )!;
  }
}
