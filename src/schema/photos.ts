import { bigint, datetime, index as mysqlIndex, int, mysqlTable, text as mysqlText, uniqueIndex as mysqlUnique, varchar } from "drizzle-orm/mysql-core";
import { index as sqliteIndex, integer, sqliteTable, text, uniqueIndex as sqliteUnique } from "drizzle-orm/sqlite-core";
import { lengths, mysqlJson, sqliteJson } from "./columns.ts";

/** A task's life: queued → running → succeeded | failed | cancelled. */
export const taskStatuses = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type TaskStatus = (typeof taskStatuses)[number];
export const finishedStatuses: readonly TaskStatus[] = ["succeeded", "failed", "cancelled"];

export type TaskParams = Record<string, unknown>;

// One photos row is one task of one user (the table keeps the product design's name), from submission to its stored outputs.

export const mysqlPhotos = mysqlTable(
  "photos",
  {
    id: varchar("id", { length: lengths.id }).primaryKey(),
    userId: varchar("user_id", { length: lengths.id }).notNull(),
    workflow: varchar("workflow", { length: lengths.workflow }).notNull(),
    params: mysqlJson<TaskParams>("params").notNull(),
    status: varchar("status", { length: lengths.status, enum: taskStatuses }).notNull(),
    serverId: varchar("server_id", { length: lengths.serverId }),
    promptId: varchar("prompt_id", { length: lengths.promptId }),
    inputName: varchar("input_name", { length: lengths.fileName }),
    inputUrl: varchar("input_url", { length: lengths.url }),
    outputUrls: mysqlJson<string[]>("output_urls").notNull(),
    error: mysqlText("error"),
    idempotencyKey: varchar("idempotency_key", { length: lengths.idempotencyKey }),
    /** The gateway replica that submitted the task and follows it (its INSTANCE_ID). */
    gatewayId: varchar("gateway_id", { length: lengths.gatewayId }),
    /** Where the stored input lives in storage: a task waiting in the gateway is uploaded to its server from there. */
    inputKey: varchar("input_key", { length: lengths.fileName }),
    /** Set by a frontend key on submit: orders that frontend's own waiting tasks (higher first). */
    priority: int("priority").notNull().default(0),
    /** The submit sequence: FIFO within a user and the deterministic tie-break of the gateway's queue. */
    queueSeq: bigint("queue_seq", { mode: "number" }).notNull().default(0),
    /** The user's round in the frontend's round-robin, fixed at submit (see queue-rounds in the controller). */
    queueRound: bigint("queue_round", { mode: "number" }).notNull().default(0),
    /** When the dispatcher handed the task to its server (null while it waits in the gateway). */
    dispatchedAt: datetime("dispatched_at", { mode: "date", fsp: 3 }),
    /** Why a waiting task cannot go to any live server now (null when it can). */
    waitReason: varchar("wait_reason", { length: lengths.waitReason }),
    createdAt: datetime("created_at", { mode: "date", fsp: 3 }).notNull(),
    updatedAt: datetime("updated_at", { mode: "date", fsp: 3 }).notNull(),
    startedAt: datetime("started_at", { mode: "date", fsp: 3 }),
    finishedAt: datetime("finished_at", { mode: "date", fsp: 3 }),
  },
  (table) => [
    mysqlIndex("photos_user_created_idx").on(table.userId, table.createdAt, table.id),
    // The gateway's queue: the waiting tasks (server_id null) in their frontend's order, per
    // priority level, and the ones on servers, counted or read without touching the waiting ones.
    mysqlIndex("photos_queue_idx").on(table.status, table.serverId, table.priority, table.queueRound, table.queueSeq, table.id),
    // The submit's queue round and per-user cap read MIN/MAX/COUNT from these two alone (one
    // index probe each, not a scan of the queue); the status prefix serves every status filter.
    mysqlIndex("photos_status_server_round_idx").on(table.status, table.serverId, table.queueRound),
    mysqlIndex("photos_user_status_round_idx").on(table.userId, table.status, table.queueRound),
    mysqlUnique("photos_user_idempotency_unique").on(table.userId, table.idempotencyKey),
  ],
);

export const sqlitePhotos = sqliteTable(
  "photos",
  {
    id: text("id", { length: lengths.id }).primaryKey(),
    userId: text("user_id", { length: lengths.id }).notNull(),
    workflow: text("workflow", { length: lengths.workflow }).notNull(),
    params: sqliteJson<TaskParams>("params").notNull(),
    status: text("status", { length: lengths.status, enum: taskStatuses }).notNull(),
    serverId: text("server_id", { length: lengths.serverId }),
    promptId: text("prompt_id", { length: lengths.promptId }),
    inputName: text("input_name", { length: lengths.fileName }),
    inputUrl: text("input_url", { length: lengths.url }),
    outputUrls: sqliteJson<string[]>("output_urls").notNull(),
    error: text("error"),
    idempotencyKey: text("idempotency_key", { length: lengths.idempotencyKey }),
    gatewayId: text("gateway_id", { length: lengths.gatewayId }),
    inputKey: text("input_key", { length: lengths.fileName }),
    priority: integer("priority").notNull().default(0),
    queueSeq: integer("queue_seq").notNull().default(0),
    queueRound: integer("queue_round").notNull().default(0),
    dispatchedAt: integer("dispatched_at", { mode: "timestamp_ms" }),
    waitReason: text("wait_reason", { length: lengths.waitReason }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
  },
  (table) => [
    sqliteIndex("photos_user_created_idx").on(table.userId, table.createdAt, table.id),
    // The gateway's queue: the waiting tasks (server_id null) in their frontend's order, per
    // priority level, and the ones on servers, counted or read without touching the waiting ones.
    sqliteIndex("photos_queue_idx").on(table.status, table.serverId, table.priority, table.queueRound, table.queueSeq, table.id),
    // The submit's queue round and per-user cap read MIN/MAX/COUNT from these two alone (one
    // index probe each, not a scan of the queue); the status prefix serves every status filter.
    sqliteIndex("photos_status_server_round_idx").on(table.status, table.serverId, table.queueRound),
    sqliteIndex("photos_user_status_round_idx").on(table.userId, table.status, table.queueRound),
    sqliteUnique("photos_user_idempotency_unique").on(table.userId, table.idempotencyKey),
  ],
);

export type TaskRow = typeof mysqlPhotos.$inferSelect;
export type NewTaskRow = typeof mysqlPhotos.$inferInsert;
