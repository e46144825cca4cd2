import { z } from "zod";

/**
 * Pool status shapes, the single source for the status route, its docs and the pool itself.
 */

/** The result of one check. `ms` is how long it took when it ran. */
export const checkResultSchema = z.object({
  ok: z.boolean(),
  error: z.string().optional(),
  ms: z.number().optional(),
});
export type CheckResult = z.infer<typeof checkResultSchema>;

/** `unknown` until the first check finished; `down` after N consecutive failures. */
export const serverStateSchema = z.enum(["unknown", "up", "down"]);
export type ServerState = z.infer<typeof serverStateSchema>;

/** One server as the pool sees it. */
export const serverStatusSchema = z.object({
  id: z.string(),
  url: z.string(),
  weight: z.number(),
  tags: z.array(z.string()),
  state: serverStateSchema,
  /** Pickable: state `up`. */
  healthy: z.boolean(),
  consecutiveFailures: z.number().int(),
  /** Epoch ms of the last finished check, null before the first. */
  checkedAt: z.number().nullable(),
  checks: z.object({
    /** DNS resolves, and the host answered a TCP connect (accepting or refusing it). */
    host: checkResultSchema,
    /** The ComfyUI port accepts TCP connections. */
    port: checkResultSchema,
    /** `/system_stats` and `/queue` answered within the timeout. */
    api: checkResultSchema,
  }),
  /** Round trip of `/system_stats`. */
  latencyMs: z.number().nullable(),
  queue: z.object({ running: z.number().int(), pending: z.number().int() }).nullable(),
  /** Tasks this gateway submitted since the last queue reading (not yet visible in `queue`). */
  localPending: z.number().int(),
  comfyuiVersion: z.string().nullable(),
  device: z.object({ name: z.string(), vramFree: z.number().nullable(), vramTotal: z.number().nullable() }).nullable(),
  features: z.object({ clientPromptId: z.boolean(), progressState: z.boolean(), previewMetadata: z.boolean(), jobsApi: z.boolean() }).nullable(),
  /**
   * The node classes of `/object_info`: whether they are known (a server whose list is unknown
   * takes no task that needs node classes), how many, and the last fetch error with the time of
   * the next attempt.
   */
  nodes: z.object({
    known: z.boolean(),
    count: z.number().int().nullable(),
    fetchedAt: z.number().nullable(),
    error: z.string().nullable(),
    retryAt: z.number().nullable(),
  }),
});
export type ServerStatus = z.infer<typeof serverStatusSchema>;

/** `snapshot()`: every server plus a summary. */
export const poolSnapshotSchema = z.object({
  servers: z.array(serverStatusSchema),
  available: z.number().int(),
  total: z.number().int(),
});
export type PoolSnapshot = z.infer<typeof poolSnapshotSchema>;
