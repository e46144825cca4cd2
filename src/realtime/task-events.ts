import { z } from "zod";

// What a progress client hears about one task. These schemas are the WebSocket protocol's
// documentation as well as its types.

export const queuedEventSchema = z.object({ type: z.literal("queued"), taskId: z.string(), ahead: z.number().int().min(0) });
export const runningEventSchema = z.object({ type: z.literal("running"), taskId: z.string() });
export const executingEventSchema = z.object({ type: z.literal("executing"), taskId: z.string(), node: z.string() });
export const progressEventSchema = z.object({
  type: z.literal("progress"),
  taskId: z.string(),
  node: z.string().nullable(),
  value: z.number(),
  max: z.number(),
  /** Whole-task percentage, when the number of nodes left to run is known. */
  percent: z.number().min(0).max(100).nullable(),
});
export const succeededEventSchema = z.object({ type: z.literal("succeeded"), taskId: z.string(), outputUrls: z.array(z.string()) });
export const failedEventSchema = z.object({ type: z.literal("failed"), taskId: z.string(), message: z.string(), node: z.string().nullable() });
export const cancelledEventSchema = z.object({ type: z.literal("cancelled"), taskId: z.string() });

export const taskEventSchema = z.discriminatedUnion("type", [
  queuedEventSchema,
  runningEventSchema,
  executingEventSchema,
  progressEventSchema,
  succeededEventSchema,
  failedEventSchema,
  cancelledEventSchema,
]);

export type TaskEvent = z.infer<typeof taskEventSchema>;
export type ProgressEvent = z.infer<typeof progressEventSchema>;
export type FinalTaskEvent = Extract<TaskEvent, { type: "succeeded" | "failed" | "cancelled" }>;

/** A preview image from ComfyUI, forwarded only to subscribers that asked for previews. */
export interface TaskPreview {
  taskId: string;
  format: "jpeg" | "png";
  bytes: Uint8Array;
}

export function isFinal(event: TaskEvent): event is FinalTaskEvent {
  return event.type === "succeeded" || event.type === "failed" || event.type === "cancelled";
}
