import { z } from "zod";
import { webhookDeliveryStatuses, webhookEventTypes, type WebhookDeliveryRow, type WebhookEndpointRow } from "../schema/index.ts";

/** An endpoint as the API documents it: never its secret (answered once, when it is made). */
export const webhookEndpointViewSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(webhookEventTypes)),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabledReason: z.string().nullable().meta({ description: "`disabled by request`, or `410 Gone` when the receiver answered 410" }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: "WebhookEndpoint" });

/** A delivery's state as the API documents it: no body (the receiver has it; the task is readable with the key). */
export const webhookDeliveryViewSchema = z
  .object({
    id: z.string().meta({ description: "The webhook-id, the same on every attempt" }),
    event: z.enum(webhookEventTypes),
    taskId: z.string(),
    status: z.enum(webhookDeliveryStatuses),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.iso.datetime(),
    lastAttemptAt: z.iso.datetime().nullable(),
    nextAttemptAt: z.iso.datetime().nullable().meta({ description: "When the next attempt is due (pending deliveries only)" }),
    deliveredAt: z.iso.datetime().nullable(),
  })
  .meta({ id: "WebhookDelivery" });

export type WebhookEndpointView = z.infer<typeof webhookEndpointViewSchema>;
export type WebhookDeliveryView = z.infer<typeof webhookDeliveryViewSchema>;

/** An endpoint as the API shows it. */
export function webhookEndpointView(row: WebhookEndpointRow): WebhookEndpointView {
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

/** A delivery as the API shows it. */
export function webhookDeliveryView(row: WebhookDeliveryRow): WebhookDeliveryView {
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
