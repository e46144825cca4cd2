import { and, asc, count, desc, eq, inArray, isNotNull, isNull, lt, max, min, or, sql, type SQL } from "drizzle-orm";
import { affectedRows } from "../db/affected-rows.ts";
import type { Database } from "../db/database.ts";
import { isDuplicateKey } from "../errors/database-errors.ts";
import type { Clock } from "../lib/clock.ts";
import { randomId } from "../lib/ids.ts";
import type { NewTaskRow, TaskRow, TaskStatus, User } from "../schema/index.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { KeysDBController } from "./keys-db-controller.ts";
import { QueueDBController } from "./queue-db-controller.ts";
import { WebhooksDBController, type OutboxEvent } from "./webhooks-db-controller.ts";

export interface UserInput {
  externalId: string;
  nickname?: string | null;
  avatarUrl?: string | null;
}

export type TaskInput = Omit<NewTaskRow, "id" | "createdAt" | "updatedAt"> & { id?: string };
export type TaskPatch = Partial<Omit<TaskRow, "id" | "userId" | "createdAt" | "updatedAt">>;

/** A submitter's standing: see BaseDBController.submitterFacts. */
export interface SubmitterFacts {
  /** The user's tasks queued or running now. */
  unfinished: number;
  /** This frontend's queued tasks, every user's (the gateway's queue ceiling). */
  queued: number;
  /** The round-robin round the user's next task takes. */
  queueRound: number;
}

/** A MIN/MAX as the driver gives it (MySQL may give a BIGINT as a string), or null for no rows. */
function nullableNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

function largest(...values: Array<number | string | null>): number | null {
  const present = values.map(nullableNumber).filter((value): value is number => value !== null);
  return present.length === 0 ? null : Math.max(...present);
}

export interface TaskPage {
  items: TaskRow[];
  nextCursor: string | null;
}

/**
 * The SQL every frontend shares, over that frontend's own database. Subclasses add what only their
 * frontend needs; nothing here knows about HTTP, ComfyUI or storage.
 */
/** The configured quotas a controller may enforce (LOGO_DAILY_QUOTA, ...); 0 turns one off. */
export interface QuotaSettings {
  logoDailyQuota: number;
}

export interface QuotaRefusal {
  message: string;
  resetsAt: Date;
}

export abstract class BaseDBController {
  constructor(
    readonly frontend: string,
    protected readonly database: Database,
    protected readonly clock: Clock,
  ) {}

  /** Facts about a user that only this frontend keeps; shown with the user. */
  abstract userStats(userId: string): Promise<Record<string, unknown>>;

  /**
   * The frontend's own quota, asked before each submit: a refusal (why, and when it resets) or
   * null. The default has none; LogoDBController rations logos per day.
   */
  async submitQuota(_userId: string, _settings: QuotaSettings): Promise<QuotaRefusal | null> {
    return null;
  }

  ready(): Promise<void> {
    return this.database.ready();
  }

  ping(): Promise<void> {
    return this.database.ping();
  }

  close(): Promise<void> {
    return this.database.close();
  }

  /** This frontend's API keys and token signing secret. */
  get keys(): KeysDBController {
    return (this.keysController ??= new KeysDBController(this.database, this.clock));
  }

  private keysController?: KeysDBController;

  /** This frontend's webhook endpoints and outbox. */
  get webhooks(): WebhooksDBController {
    return (this.webhooksController ??= new WebhooksDBController(this.database, this.clock));
  }

  private webhooksController?: WebhooksDBController;

  /** This frontend's gateway queue: its head in order, the prepared tasks, counts. */
  get queue(): QueueDBController {
    return (this.queueController ??= new QueueDBController(this.database));
  }

  private queueController?: QueueDBController;

  get label(): string {
    return this.database.label;
  }

  protected get db() {
    return this.database.db;
  }

  protected get users() {
    return this.database.tables.users;
  }

  protected get photos() {
    return this.database.tables.photos;
  }

  // Every poll and submit reads a row by id: building that query once instead of per call takes
  // drizzle's SQL building off the hot path (about a tenth of a poll's CPU; see bench/RESULTS.md).
  private lookups?: ReturnType<BaseDBController["prepareLookups"]>;

  private prepareLookups() {
    const id = sql.placeholder("id");
    return {
      user: this.db.select().from(this.users).where(eq(this.users.id, id)).limit(1).prepare(),
      photo: this.db.select().from(this.photos).where(eq(this.photos.id, id)).limit(1).prepare(),
      facts: this.prepareFacts(),
    };
  }

  private prepareFacts() {
    const photos = this.photos;
    const user = eq(photos.userId, sql.placeholder("userId"));
    const queued = eq(photos.status, "queued");
    const running = eq(photos.status, "running");
    const waiting = and(queued, isNull(photos.serverId));
    const prepared = and(queued, isNotNull(photos.serverId));
    // Equalities rather than IN: MIN/MAX under an equality prefix is one index probe.
    const round = (pick: typeof min, where: SQL | undefined) => sql<number | string | null>`(${this.db.select({ round: pick(photos.queueRound) }).from(photos).where(where)})`;
    return this.db
      .select({
        unfinished: sql<number | string>`(${this.db.select({ total: count() }).from(photos).where(and(user, inArray(photos.status, ["queued", "running"])))})`,
        queued: sql<number | string>`(${this.db.select({ total: count() }).from(photos).where(queued)})`,
        ownQueued: round(max, and(user, queued)),
        ownRunning: round(max, and(user, running)),
        waitingMin: round(min, waiting),
        waitingMax: round(max, waiting),
        preparedMax: round(max, prepared),
        runningMax: round(max, running),
      })
      .from(this.users)
      .where(eq(this.users.id, sql.placeholder("userId")))
      .limit(1)
      .prepare();
  }

  private get prepared() {
    return (this.lookups ??= this.prepareLookups());
  }

  async getUser(id: string): Promise<User | undefined> {
    const [user] = await this.prepared.user.execute({ id });
    return user;
  }

  async getUserByExternalId(externalId: string): Promise<User | undefined> {
    const [user] = await this.db.select().from(this.users).where(eq(this.users.externalId, externalId)).limit(1);
    return user;
  }

  /** Creates the user or updates the given fields; races between two upserts end in one row. */
  async upsertUser(input: UserInput): Promise<User> {
    const existing = await this.getUserByExternalId(input.externalId);
    if (existing) return this.updateUser(existing.id, input);
    const now = this.clock.now();
    try {
      const id = randomId();
      await this.db.insert(this.users).values({
        id,
        externalId: input.externalId,
        nickname: input.nickname ?? null,
        avatarUrl: input.avatarUrl ?? null,
        createdAt: now,
        updatedAt: now,
      });
      return (await this.getUser(id))!;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const winner = await this.getUserByExternalId(input.externalId);
      if (!winner) throw error;
      return this.updateUser(winner.id, input);
    }
  }

  private async updateUser(id: string, input: UserInput): Promise<User> {
    const patch: Partial<User> = { updatedAt: this.clock.now() };
    if (input.nickname !== undefined) patch.nickname = input.nickname;
    if (input.avatarUrl !== undefined) patch.avatarUrl = input.avatarUrl;
    await this.db.update(this.users).set(patch).where(eq(this.users.id, id));
    return (await this.getUser(id))!;
  }

  /**
   * Inserts a photo and returns the row as inserted. It is not read back: a read that failed after
   * a successful insert would leave the caller unsure whether the row exists.
   */
  async createTask(input: TaskInput): Promise<TaskRow> {
    const now = this.clock.now();
    const photo: TaskRow = {
      id: input.id ?? randomId(),
      userId: input.userId,
      workflow: input.workflow,
      params: input.params,
      status: input.status,
      serverId: input.serverId ?? null,
      promptId: input.promptId ?? null,
      inputName: input.inputName ?? null,
      inputUrl: input.inputUrl ?? null,
      outputUrls: input.outputUrls,
      error: input.error ?? null,
      idempotencyKey: input.idempotencyKey ?? null,
      gatewayId: input.gatewayId ?? null,
      inputKey: input.inputKey ?? null,
      priority: input.priority ?? 0,
      queueSeq: input.queueSeq ?? 0,
      queueRound: input.queueRound ?? 0,
      dispatchedAt: input.dispatchedAt ?? null,
      waitReason: input.waitReason ?? null,
      createdAt: now,
      updatedAt: now,
      startedAt: input.startedAt ?? null,
      finishedAt: input.finishedAt ?? null,
    };
    await this.db.insert(this.photos).values(photo);
    return photo;
  }

  async getTask(id: string): Promise<TaskRow | undefined> {
    const [photo] = await this.prepared.photo.execute({ id });
    return photo;
  }

  async findTaskByIdempotencyKey(userId: string, key: string): Promise<TaskRow | undefined> {
    const [photo] = await this.db
      .select()
      .from(this.photos)
      .where(and(eq(this.photos.userId, userId), eq(this.photos.idempotencyKey, key)))
      .limit(1);
    return photo;
  }

  async updateTask(id: string, patch: TaskPatch): Promise<TaskRow | undefined> {
    await this.db
      .update(this.photos)
      .set({ ...patch, updatedAt: this.clock.now() })
      .where(eq(this.photos.id, id));
    return this.getTask(id);
  }

  /**
   * Moves a photo to a new status only if it is still in one of `from`; returns whether it did.
   * Guards against two ends of a task (say, success and cancel) both writing.
   */
  async transitionTask(id: string, from: readonly TaskStatus[], patch: TaskPatch & { status: TaskStatus }): Promise<boolean> {
    const result: unknown = await this.db
      .update(this.photos)
      .set({ ...patch, updatedAt: this.clock.now() })
      .where(and(eq(this.photos.id, id), inArray(this.photos.status, [...from])));
    // Only the UPDATE itself knows whether this call moved the row: reading the status afterwards
    // cannot tell this transition from an earlier one to the same status.
    return affectedRows(result) > 0;
  }

  /**
   * transitionTask, and in the same transaction one webhook outbox row per enabled endpoint that
   * asked for `event`: a task's change and the news of it are recorded together or not at all.
   * `enqueued` counts the rows written (0 when the guard refused the move).
   */
  async transitionTaskWithOutbox(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch & { status: TaskStatus },
    event: OutboxEvent,
  ): Promise<{ moved: boolean; enqueued: number }> {
    const endpoints = await this.webhooks.subscribedTo(event.type);
    if (endpoints.length === 0) return { moved: await this.transitionTask(id, from, patch), enqueued: 0 };
    const now = this.clock.now();
    const update = this.db
      .update(this.photos)
      .set({ ...patch, updatedAt: now })
      .where(and(eq(this.photos.id, id), inArray(this.photos.status, [...from])))
      .toSQL();
    const moved = await this.database.updateThenInsert(update, this.webhooks.outboxInserts(endpoints, id, event, now));
    return { moved, enqueued: moved ? endpoints.length : 0 };
  }

  /** A user's photos, newest first; pass the returned cursor to get the next page. */
  async listTasks(userId: string, options: { limit: number; cursor?: string }): Promise<TaskPage | null> {
    const after = options.cursor ? decodeCursor(options.cursor) : undefined;
    if (after === null) return null;
    const conditions = [eq(this.photos.userId, userId)];
    if (after) {
      conditions.push(
        or(
          lt(this.photos.createdAt, after.createdAt),
          and(eq(this.photos.createdAt, after.createdAt), lt(this.photos.id, after.id)),
        )!,
      );
    }
    const rows = await this.db
      .select()
      .from(this.photos)
      .where(and(...conditions))
      .orderBy(desc(this.photos.createdAt), desc(this.photos.id))
      .limit(options.limit + 1);
    const items = rows.slice(0, options.limit);
    const last = items.at(-1);
    const nextCursor = rows.length > options.limit && last ? encodeCursor(last) : null;
    return { items, nextCursor };
  }

  /**
   * Unfinished tasks of every replica, least recently touched first and at most `limit`: what the
   * background reconciler looks at (it adopts those of replicas whose lease lapsed).
   */
  async listUnfinishedTasksOfAll(limit: number): Promise<TaskRow[]> {
    // A queued row without a prompt waits in the gateway's queue: the dispatcher's, not followed.
    return this.db
      .select()
      .from(this.photos)
      .where(or(eq(this.photos.status, "running"), and(eq(this.photos.status, "queued"), isNotNull(this.photos.promptId))))
      .orderBy(asc(this.photos.updatedAt))
      .limit(limit);
  }

  /**
   * Hands an unfinished task over from a replica that is gone (`from`) to `to`. Guarded on the
   * owner, so of several live replicas exactly one adopts it; false when another did, or it ended.
   */
  async adoptTask(id: string, from: string | null, to: string): Promise<boolean> {
    const owner = from === null ? isNull(this.photos.gatewayId) : eq(this.photos.gatewayId, from);
    const result: unknown = await this.db
      .update(this.photos)
      .set({ gatewayId: to, updatedAt: this.clock.now() })
      .where(and(eq(this.photos.id, id), inArray(this.photos.status, ["queued", "running"]), owner));
    return affectedRows(result) > 0;
  }

  /**
   * What a submit needs to know of its user, in one round trip (undefined: no such user): how many
   * of the user's tasks are unfinished (the per-user cap) and the round-robin round its next task
   * takes. The round is one after the user's latest unfinished task, and never before the round the
   * queue is serving now (the oldest round still waiting, else the latest one on servers). A user
   * with a backlog thus takes one task per round, and a newcomer joins the round being served
   * instead of going behind the whole backlog. Stored on the row, so the order survives restarts
   * and is the same on every replica. With them, how many of the frontend's tasks are queued (the
   * gateway's queue ceiling). Each part is a MIN, MAX or COUNT over one of the two indexes
   * that lead with (status, server_id) and (user_id, status), so none scans the queue.
   */
  async submitterFacts(userId: string): Promise<SubmitterFacts | undefined> {
    const [row] = await this.prepared.facts.execute({ userId });
    if (!row) return undefined;
    const own = largest(row.ownQueued, row.ownRunning);
    const serving = nullableNumber(row.waitingMin) ?? largest(row.waitingMax, row.preparedMax, row.runningMax) ?? 0;
    const next = own === null ? serving : own + 1;
    return { unfinished: Number(row.unfinished), queued: Number(row.queued), queueRound: Math.max(serving, next) };
  }

  /** Unfinished tasks per server (queued there or running): a server's room is counted from these. */
  async countActiveByServer(): Promise<Map<string, number>> {
    const rows = await this.db
      .select({ serverId: this.photos.serverId, total: count(this.photos.id) })
      .from(this.photos)
      .where(and(inArray(this.photos.status, ["queued", "running"]), isNotNull(this.photos.serverId)))
      .groupBy(this.photos.serverId);
    return new Map(rows.map((row) => [row.serverId!, Number(row.total)]));
  }

  /**
   * Unfinished tasks bound to a server (prepared there or running), at most `limit`: where the
   * dispatcher looks for a task waiting behind another one while a server idles. A handful per
   * server (its depth + 1), so the read stays small whatever waits in the gateway.
   */
  async listTasksOnServers(limit: number): Promise<TaskRow[]> {
    return this.db
      .select()
      .from(this.photos)
      .where(and(inArray(this.photos.status, ["queued", "running"]), isNotNull(this.photos.serverId)))
      .orderBy(asc(this.photos.createdAt), asc(this.photos.id))
      .limit(limit);
  }

  /**
   * The dispatcher's claim: binds a task waiting in the gateway to a server, only if it is still
   * waiting (queued, no server). Of two dispatchers (a lapsed lease) exactly one wins.
   */
  async claimTask(id: string, serverId: string, gatewayId: string): Promise<boolean> {
    const now = this.clock.now();
    const result: unknown = await this.db
      .update(this.photos)
      .set({ serverId, gatewayId, dispatchedAt: now, waitReason: null, updatedAt: now })
      .where(and(eq(this.photos.id, id), eq(this.photos.status, "queued"), isNull(this.photos.serverId)));
    return affectedRows(result) > 0;
  }

  /** Records the prompt a claimed task became on its server; false when it moved on meanwhile (a cancel). */
  async recordDispatch(id: string, serverId: string, promptId: string, inputName: string | null): Promise<boolean> {
    const result: unknown = await this.db
      .update(this.photos)
      .set({ promptId, inputName, updatedAt: this.clock.now() })
      .where(and(eq(this.photos.id, id), eq(this.photos.status, "queued"), eq(this.photos.serverId, serverId)));
    return affectedRows(result) > 0;
  }

  /**
   * Puts a task that did not start on `serverId` back in the gateway's queue. Its submit sequence
   * is kept, so it goes back to its original place. False when it started or ended meanwhile.
   */
  async releaseTask(id: string, serverId: string): Promise<boolean> {
    const result: unknown = await this.db
      .update(this.photos)
      .set({ serverId: null, promptId: null, inputName: null, dispatchedAt: null, updatedAt: this.clock.now() })
      .where(and(eq(this.photos.id, id), eq(this.photos.status, "queued"), eq(this.photos.serverId, serverId)));
    return affectedRows(result) > 0;
  }

  /** Why a waiting task cannot go anywhere now (null: it can). Only while it still waits. */
  async setWaitReason(id: string, reason: string | null): Promise<void> {
    await this.db
      .update(this.photos)
      .set({ waitReason: reason })
      .where(and(eq(this.photos.id, id), eq(this.photos.status, "queued"), isNull(this.photos.serverId)));
  }

  /**
   * Tasks a gateway replica left unfinished, for reconciling after its restart. Rows from before
   * replicas were recorded (no gateway id) count as every replica's.
   */
  async listUnfinishedTasks(gatewayId: string): Promise<TaskRow[]> {
    return this.db
      .select()
      .from(this.photos)
      .where(
        and(
          inArray(this.photos.status, ["queued", "running"]),
          or(eq(this.photos.gatewayId, gatewayId), isNull(this.photos.gatewayId)),
        ),
      );
  }
}
