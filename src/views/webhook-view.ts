import type { WebhookDeliveryRow, WebhookEndpointRow } from "../schema/index.ts";

/** An endpoint as the API shows it: never its secret (shown once, when it is made). */
export function webhookEndpointView(row: WebhookEndpointRow) {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.status === "enabled",
    disabledReason: row.disabledReason,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** A delivery's state: no body (the receiver has it; it is the task's, readable with the key). */
export function webhookDeliveryView(row: WebhookDeliveryRow) {
  return {
    id: row.id,
    event: row.eventType,
    taskId: row.taskId,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    lastAttemptAt: row.lastAttemptAt?.toISOString() ?? null,
    nextAttemptAt: row.status === "pending" ? row.nextAttemptAt.toISOString() : null,
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
  };
}
