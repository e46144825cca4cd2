import { datetime, index as mysqlIndex, int, mysqlTable, uniqueIndex as mysqlUnique, varchar } from "drizzle-orm/mysql-core";
import { index as sqliteIndex, integer, sqliteTable, text, uniqueIndex as sqliteUnique } from "drizzle-orm/sqlite-core";
import { lengths, mysqlJson, sqliteJson } from "./columns.ts";

// Signed webhooks of one frontend, in that frontend's own database. `webhook_endpoints` are the
// URLs its backend registered (with the secret that signs what is sent to them); `webhook_deliveries`
// is the outbox: one row per event and endpoint, written in the same transaction as the task's
// change it tells about, and worked off by the background sender (src/webhooks/).

/** The events an endpoint may ask for. */
export const webhookEventTypes = ["task.running", "task.succeeded", "task.failed", "task.cancelled"] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

export const webhookEndpointStatuses = ["enabled", "disabled"] as const;
export type WebhookEndpointStatus = (typeof webhookEndpointStatuses)[number];

/** pending: to be sent (again); delivered: a 2xx came back; failed: given up (time out, 410, endpoint off). */
export const webhookDeliveryStatuses = ["pending", "delivered", "failed"] as const;
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number];

export const mysqlWebhookEndpoints = mysqlTable("webhook_endpoints", {
  id: varchar("id", { length: lengths.id }).primaryKey(),
  url: varchar("url", { length: lengths.url }).notNull(),
  events: mysqlJson<WebhookEventType[]>("events").notNull(),
  /** `whsec_` + base64 of 32 random bytes (Standard Webhooks). */
  secret: varchar("secret", { length: lengths.webhookSecret }).notNull(),
  description: varchar("description", { length: lengths.keyLabel }),
  status: varchar("status", { length: lengths.status, enum: webhookEndpointStatuses }).notNull(),
  /** Why it was disabled: `by request`, or `410 Gone` from the receiver. */
  disabledReason: varchar("disabled_reason", { length: lengths.keyLabel }),
  createdAt: datetime("created_at", { mode: "date", fsp: 3 }).notNull(),
  updatedAt: datetime("updated_at", { mode: "date", fsp: 3 }).notNull(),
});

export const sqliteWebhookEndpoints = sqliteTable("webhook_endpoints", {
  id: text("id", { length: lengths.id }).primaryKey(),
  url: text("url", { length: lengths.url }).notNull(),
  events: sqliteJson<WebhookEventType[]>("events").notNull(),
  secret: text("secret", { length: lengths.webhookSecret }).notNull(),
  description: text("description", { length: lengths.keyLabel }),
  status: text("status", { length: lengths.status, enum: webhookEndpointStatuses }).notNull(),
  disabledReason: text("disabled_reason", { length: lengths.keyLabel }),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});

export const mysqlWebhookDeliveries = mysqlTable(
  "webhook_deliveries",
  {
    /** The `webhook-id`: the same on every attempt, so receivers can drop repeats. */
    id: varchar("id", { length: lengths.id }).primaryKey(),
    endpointId: varchar("endpoint_id", { length: lengths.id }).notNull(),
    eventType: varchar("event_type", { length: lengths.eventType, enum: webhookEventTypes }).notNull(),
    taskId: varchar("task_id", { length: lengths.id }).notNull(),
    /** The exact body sent on every attempt (ids and URLs only, no personal data). */
    payload: mysqlJson<Record<string, unknown>>("payload").notNull(),
    status: varchar("status", { length: lengths.status, enum: webhookDeliveryStatuses }).notNull(),
    attempts: int("attempts").notNull(),
    nextAttemptAt: datetime("next_attempt_at", { mode: "date", fsp: 3 }).notNull(),
    /** The replica sending it now, until `lease_until`: another replica leaves it alone meanwhile. */
    leaseOwner: varchar("lease_owner", { length: lengths.gatewayId }),
    leaseUntil: datetime("lease_until", { mode: "date", fsp: 3 }),
    lastStatusCode: int("last_status_code"),
    lastError: varchar("last_error", { length: lengths.keyLabel }),
    createdAt: datetime("created_at", { mode: "date", fsp: 3 }).notNull(),
    lastAttemptAt: datetime("last_attempt_at", { mode: "date", fsp: 3 }),
    deliveredAt: datetime("delivered_at", { mode: "date", fsp: 3 }),
  },
  (table) => [
    mysqlIndex("webhook_deliveries_due_idx").on(table.status, table.nextAttemptAt),
    mysqlIndex("webhook_deliveries_endpoint_idx").on(table.endpointId, table.createdAt),
    mysqlUnique("webhook_deliveries_event_unique").on(table.endpointId, table.taskId, table.eventType),
  ],
);

export const sqliteWebhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id", { length: lengths.id }).primaryKey(),
    endpointId: text("endpoint_id", { length: lengths.id }).notNull(),
    eventType: text("event_type", { length: lengths.eventType, enum: webhookEventTypes }).notNull(),
    taskId: text("task_id", { length: lengths.id }).notNull(),
    payload: sqliteJson<Record<string, unknown>>("payload").notNull(),
    status: text("status", { length: lengths.status, enum: webhookDeliveryStatuses }).notNull(),
    attempts: integer("attempts").notNull(),
    nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }).notNull(),
    leaseOwner: text("lease_owner", { length: lengths.gatewayId }),
    leaseUntil: integer("lease_until", { mode: "timestamp_ms" }),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error", { length: lengths.keyLabel }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    lastAttemptAt: integer("last_attempt_at", { mode: "timestamp_ms" }),
    deliveredAt: integer("delivered_at", { mode: "timestamp_ms" }),
  },
  (table) => [
    sqliteIndex("webhook_deliveries_due_idx").on(table.status, table.nextAttemptAt),
    sqliteIndex("webhook_deliveries_endpoint_idx").on(table.endpointId, table.createdAt),
    sqliteUnique("webhook_deliveries_event_unique").on(table.endpointId, table.taskId, table.eventType),
  ],
);

export type WebhookEndpointRow = typeof mysqlWebhookEndpoints.$inferSelect;
export type WebhookDeliveryRow = typeof mysqlWebhookDeliveries.$inferSelect;
