import { z } from "zod";
import { nodeOutputSchema } from "./schemas.ts";

/**
 * Zod schemas for every JSON message ComfyUI sends on `/ws`, as a discriminated union on `type`.
 * Objects ignore fields added by newer releases; unknown message types are dropped by the parser.
 */

const promptScoped = { prompt_id: z.string() };

export const statusMessageSchema = z.object({
  type: z.literal("status"),
  data: z.object({
    status: z.object({ exec_info: z.object({ queue_remaining: z.number() }) }),
    sid: z.string().optional(),
  }),
});

export const executionStartMessageSchema = z.object({
  type: z.literal("execution_start"),
  data: z.object({ ...promptScoped, timestamp: z.number().optional() }),
});

export const executionCachedMessageSchema = z.object({
  type: z.literal("execution_cached"),
  data: z.object({ ...promptScoped, nodes: z.array(z.string()), timestamp: z.number().optional() }),
});

/**
 * `node: null` means the prompt finished, whatever the outcome. `prompt_id` is missing in one
 * case: the message a server sends a client reconnecting while its prompt runs (`{ node }` only).
 */
export const executingMessageSchema = z.object({
  type: z.literal("executing"),
  data: z.object({ prompt_id: z.string().optional(), node: z.string().nullable(), display_node: z.string().nullish() }),
});
export type ExecutingMessage = z.infer<typeof executingMessageSchema>;

export const progressMessageSchema = z.object({
  type: z.literal("progress"),
  data: z.object({ ...promptScoped, value: z.number(), max: z.number(), node: z.string().nullish() }),
});

/** `output` is null for a cached output node that had no UI output. */
export const executedMessageSchema = z.object({
  type: z.literal("executed"),
  data: z.object({
    ...promptScoped,
    node: z.string(),
    display_node: z.string().nullish(),
    output: nodeOutputSchema.nullable(),
  }),
});

export const executionSuccessMessageSchema = z.object({
  type: z.literal("execution_success"),
  data: z.object({ ...promptScoped, timestamp: z.number().optional() }),
});

export const executionErrorMessageSchema = z.object({
  type: z.literal("execution_error"),
  data: z.object({
    ...promptScoped,
    node_id: z.string(),
    node_type: z.string(),
    executed: z.array(z.string()).default([]),
    exception_message: z.string(),
    exception_type: z.string(),
    traceback: z.array(z.string()).default([]),
    current_inputs: z.unknown().optional(),
    current_outputs: z.unknown().optional(),
    timestamp: z.number().optional(),
  }),
});

export const executionInterruptedMessageSchema = z.object({
  type: z.literal("execution_interrupted"),
  data: z.object({
    ...promptScoped,
    node_id: z.string(),
    node_type: z.string(),
    executed: z.array(z.string()).default([]),
    timestamp: z.number().optional(),
  }),
});

/** Newer releases only: the state of every node of the running prompt. */
export const progressStateMessageSchema = z.object({
  type: z.literal("progress_state"),
  data: z.object({
    ...promptScoped,
    nodes: z.record(
      z.string(),
      z.looseObject({ value: z.number(), max: z.number(), state: z.string() }),
    ),
  }),
});

/** Every JSON message the gateway understands. */
export const comfyMessageSchema = z.discriminatedUnion("type", [
  statusMessageSchema,
  executionStartMessageSchema,
  executionCachedMessageSchema,
  executingMessageSchema,
  progressMessageSchema,
  executedMessageSchema,
  executionSuccessMessageSchema,
  executionErrorMessageSchema,
  executionInterruptedMessageSchema,
  progressStateMessageSchema,
]);
export type ComfyMessage = z.infer<typeof comfyMessageSchema>;
export type ComfyMessageType = ComfyMessage["type"];

const knownTypes = new Set<string>(comfyMessageSchema.options.map((o) => o.shape.type.value));

/**
 * Parses one text frame. Returns null for unknown types (newer servers add some) and for known
 * types whose data does not match: neither may break the stream.
 */
export function parseComfyMessage(text: string): ComfyMessage | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof json !== "object" || json === null || !("type" in json) || typeof json.type !== "string") return null;
  if (!knownTypes.has(json.type)) return null;
  const parsed = comfyMessageSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}
