import { z } from "zod";

/**
 * Zod schemas for ComfyUI's HTTP answers: the single source of the shapes the client returns.
 * Objects ignore unknown keys so newer ComfyUI releases that add fields keep parsing.
 */

/** A workflow in API format: node id → `{ class_type, inputs }`. Inputs are literals or `[nodeId, outputIndex]` links. */
export const workflowSchema = z.record(
  z.string(),
  z.looseObject({ class_type: z.string(), inputs: z.record(z.string(), z.unknown()) }),
);
export type Workflow = z.infer<typeof workflowSchema>;

/** `POST /prompt` success. `number` is a counter, not a queue position. */
export const queuePromptResponseSchema = z
  .object({
    prompt_id: z.string(),
    number: z.number(),
    node_errors: z.unknown().optional(),
  })
  .transform((r) => ({ promptId: r.prompt_id, number: r.number, nodeErrors: r.node_errors ?? {} }));
export type QueuePromptResult = z.output<typeof queuePromptResponseSchema>;

/**
 * One queue item: `[number, prompt_id, prompt, extra_data, outputs_to_execute, ...newer extras]`.
 * Read by position; anything after the fifth element is tolerated and ignored.
 */
export const queueItemSchema = z
  .tuple([z.number(), z.string()], z.unknown())
  .transform((t) => {
    const extra = t[3];
    const clientId =
      typeof extra === "object" && extra !== null && "client_id" in extra && typeof extra.client_id === "string"
        ? extra.client_id
        : undefined;
    // The gateway's own marker in extra_data: which task a prompt is, whoever queued it.
    const taskId =
      typeof extra === "object" && extra !== null && "aipack_task" in extra && typeof extra.aipack_task === "string"
        ? extra.aipack_task
        : undefined;
    return { number: t[0], promptId: t[1], ...(clientId === undefined ? {} : { clientId }), ...(taskId === undefined ? {} : { taskId }) };
  });
export type QueueItem = z.output<typeof queueItemSchema>;

/** `GET /queue`. */
export const queueResponseSchema = z
  .object({ queue_running: z.array(queueItemSchema), queue_pending: z.array(queueItemSchema) })
  .transform((q) => ({ running: q.queue_running, pending: q.queue_pending }));
export type QueueState = z.output<typeof queueResponseSchema>;

/** A file reference as ComfyUI reports outputs (and as `/view` takes it). */
export const fileRefSchema = z.object({
  filename: z.string(),
  subfolder: z.string().default(""),
  type: z.string().default("output"),
});
export type FileRef = z.infer<typeof fileRefSchema>;

/** A node's UI output in history and `executed` messages; only `images` is typed, the rest is kept loosely. */
export const nodeOutputSchema = z.looseObject({ images: z.array(fileRefSchema).optional() });

/** One `/history/{id}` entry (success, error or interrupted). */
export const historyEntrySchema = z.object({
  prompt: z.array(z.unknown()).optional(),
  outputs: z.record(z.string(), nodeOutputSchema).default({}),
  status: z
    .object({
      status_str: z.string(),
      completed: z.boolean(),
      messages: z.array(z.tuple([z.string(), z.unknown()], z.unknown())).default([]),
    })
    .optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** `GET /history/{id}`: `{}` while unknown or unfinished. */
export const historyResponseSchema = z.record(z.string(), historyEntrySchema);

/**
 * `GET /api/jobs/{id}` (current releases): the job's state, and once it ended its outputs and
 * status messages, read as the history entry they mirror.
 */
export const jobResponseSchema = z
  .looseObject({
    id: z.string(),
    status: z.string(),
    outputs: z.record(z.string(), nodeOutputSchema).optional(),
    execution_status: historyEntrySchema.shape.status,
  })
  .transform((j) => ({
    status: j.status,
    entry: j.execution_status === undefined ? null : { outputs: j.outputs ?? {}, status: j.execution_status },
  }));
export type JobState = z.output<typeof jobResponseSchema>;

/** `POST /upload/image`. */
export const uploadResponseSchema = z.object({
  name: z.string(),
  subfolder: z.string().default(""),
  type: z.string().default("input"),
});
export type UploadResult = z.infer<typeof uploadResponseSchema>;

/** `GET /system_stats`; `comfyui_version` is missing on older releases. */
export const systemStatsSchema = z.object({
  system: z.looseObject({
    os: z.string().optional(),
    comfyui_version: z.string().optional(),
    python_version: z.string().optional(),
    pytorch_version: z.string().optional(),
    ram_total: z.number().optional(),
    ram_free: z.number().optional(),
  }),
  devices: z
    .array(
      z.looseObject({
        name: z.string(),
        type: z.string().optional(),
        index: z.number().nullish(),
        vram_total: z.number().optional(),
        vram_free: z.number().optional(),
        torch_vram_total: z.number().optional(),
        torch_vram_free: z.number().optional(),
      }),
    )
    .default([]),
});
export type SystemStats = z.infer<typeof systemStatsSchema>;

/** `GET /object_info`: node class name → definition (large; kept loose on purpose). */
export const objectInfoSchema = z.record(
  z.string(),
  z.looseObject({
    input: z.looseObject({ required: z.record(z.string(), z.unknown()).optional(), optional: z.record(z.string(), z.unknown()).optional() }).optional(),
    output: z.array(z.unknown()).optional(),
    output_node: z.boolean().optional(),
  }),
);
export type ObjectInfo = z.infer<typeof objectInfoSchema>;

/** `GET /features` (newer releases only). */
export const featuresSchema = z.record(z.string(), z.unknown());
export type ServerFeatures = z.infer<typeof featuresSchema>;

/** One validation error item inside `node_errors[id].errors`. */
const nodeErrorItemSchema = z.looseObject({
  type: z.string().default("unknown"),
  message: z.string().default(""),
  details: z.string().default(""),
  extra_info: z.looseObject({ input_name: z.string().optional() }).optional(),
});

/** `node_errors` as a list (`[]`) or an object keyed by node id. */
export const nodeErrorsSchema = z.union([
  z.array(z.unknown()),
  z.record(
    z.string(),
    z.looseObject({ class_type: z.string().optional(), errors: z.array(nodeErrorItemSchema).default([]) }),
  ),
]);

/** The 400 body of `POST /prompt`: `error` is an object or, for a missing prompt, a plain string. */
export const promptErrorBodySchema = z.object({
  error: z.union([
    z.string(),
    z.looseObject({
      type: z.string().default("unknown"),
      message: z.string().default(""),
      details: z.string().default(""),
    }),
  ]),
  node_errors: nodeErrorsSchema.optional(),
});
export type PromptErrorBody = z.infer<typeof promptErrorBodySchema>;
