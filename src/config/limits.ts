import { z } from "zod";
import { limitsEnvShape, unfinishedTaskOverrides } from "./limits-env.ts";

const limitsEnv = z.object(limitsEnvShape);
type LimitsEnv = z.infer<typeof limitsEnv>;

/** Every abuse limit, read once from the environment (README: "Limits"). */
export interface Limits {
  maxImagePixels: number;
  maxViewBytes: number;
  maxJsonBytes: number;
  maxFormFields: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  dbQueueLimit: number;
  ws: { maxPayload: number; perAddress: number; perUser: number; messagesPerSecond: number };
  rates: { submitsPerMinute: number; pollsPerMinute: number; otherPerMinute: number };
  trustedProxies: string[];
  maxUnfinishedTasks: number;
  /** Per frontend, overriding maxUnfinishedTasks. */
  maxUnfinishedTasksBy: Record<string, number>;
  poolMaxPendingPerServer: number;
  logoDailyQuota: number;
}

export function limitsFrom(env: LimitsEnv, source: Record<string, string | undefined>): Limits {
  return {
    maxImagePixels: env.MAX_IMAGE_PIXELS,
    maxViewBytes: env.MAX_VIEW_BYTES,
    maxJsonBytes: env.MAX_JSON_BYTES,
    maxFormFields: env.MAX_FORM_FIELDS,
    headersTimeoutMs: env.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_MS,
    dbQueueLimit: env.DB_QUEUE_LIMIT,
    ws: { maxPayload: env.WS_MAX_PAYLOAD, perAddress: env.WS_MAX_PER_ADDRESS, perUser: env.WS_MAX_PER_USER, messagesPerSecond: env.WS_MESSAGES_PER_SECOND },
    rates: { submitsPerMinute: env.RATE_SUBMITS_PER_MINUTE, pollsPerMinute: env.RATE_POLLS_PER_MINUTE, otherPerMinute: env.RATE_OTHER_PER_MINUTE },
    trustedProxies: env.TRUSTED_PROXIES ?? [],
    maxUnfinishedTasks: env.MAX_UNFINISHED_TASKS,
    maxUnfinishedTasksBy: Object.fromEntries(unfinishedTaskOverrides(source)),
    poolMaxPendingPerServer: env.POOL_MAX_PENDING_PER_SERVER,
    logoDailyQuota: env.LOGO_DAILY_QUOTA,
  };
}
