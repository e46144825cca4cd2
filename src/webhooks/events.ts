import { z } from "zod";
import type { OutboxEvent } from "../controllers/webhooks-db-controller.ts";
import { webhookEventTypes, type WebhookEventType } from "../schema/index.ts";

/**
 * The body of every webhook: the event, when it happened, and the task by id. No user data
 * beyond ids (no nickname, no input image): a receiver reads the rest with its key.
 */
export const webhookPayloadSchema = z.object({
  type: z.enum(webhookEventTypes),
  timestamp: z.iso.datetime(),
  data: z.object({
    taskId: z.string(),
    frontend: z.string(),
    status: z.enum(["running", "succeeded", "failed", "cancelled"]),
    outputUrls: z.array(z.string()).optional(),
    error: z.string().optional(),
  }),
});
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** A task's change as an outbox event: `task.<status>`, stamped with `at`. */
export function taskWebhookEvent(
  frontend: string,
  taskId: string,
  change: { status: "running" | "succeeded" | "failed" | "cancelled"; outputUrls?: string[]; error?: string },
  at: Date,
): OutboxEvent {
  const type: WebhookEventType = `task.${change.status}`;
  const payload: WebhookPayload = {
    type,
    timestamp: at.toISOString(),
    data: {
      taskId,
      frontend,
      status: change.status,
      ...(change.outputUrls ? { outputUrls: change.outputUrls } : {}),
      ...(change.error !== undefined ? { error: change.error } : {}),
    },
  };
  return { type, payload };
}
