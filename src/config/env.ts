import { z } from "zod";
import { limitsEnvShape } from "./limits-env.ts";
import { webhooksEnvShape } from "./webhooks-env.ts";

const port = z.coerce.number().int().min(0).max(65535);
const csv = z
  .string()
  .transform((value) => value.split(",").map((item) => item.trim()).filter(Boolean));

/**
 * Every setting the gateway reads, with the defaults that let it start with no configuration.
 * Nothing else in the code base reads the environment.
 */
export const envSchema = z.object({
  PORT: port.default(8388),
  HOST: z.string().min(1).default("0.0.0.0"),
  PUBLIC_BASE_URL: z.url().optional(),
  /** Unset: embedded SQLite, one file per frontend under DATA_DIR/db. */
  DATABASE_URL: z
    .url()
    .refine((url) => url.startsWith("mysql://"), "must be a mysql:// URL")
    .optional(),
  DATABASE_PREFIX: z
    .string()
    .regex(/^[a-z0-9_]{1,40}$/i, "letters, digits and _ only")
    .default("aipack_"),
  DATA_DIR: z.string().min(1).default("./data"),
  /** This replica's id towards ComfyUI; unset: made once and kept in DATA_DIR/instance-id. */
  INSTANCE_ID: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "8-64 letters, digits, _ or -").optional(),
  FRONTENDS: csv.optional(),
  /** Browser origins allowed to call the REST API (`*` for any); unset: no CORS headers. */
  CORS_ORIGINS: csv.optional(),
  COMFY_SERVERS: z.string().min(1).default("http://127.0.0.1:8188"),
  COMFY_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  POOL_CHECK_INTERVAL_MS: z.coerce.number().int().positive().default(15_000),
  /** A server whose event stream stays down this long has its queued and running tasks failed. */
  COMFY_LOST_AFTER_MS: z.coerce.number().int().positive().default(30_000),
  /** How long one upstream /queue answer serves every client poll of that server. */
  QUEUE_READ_WINDOW_MS: z.coerce.number().int().min(0).default(500),
  /** How often the background reconciler sweeps unfinished tasks (jittered ±20 %). */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(50).default(5_000),
  /** Several replicas: a replica whose lease (renewed in Redis) is older than this is taken for gone, and its tasks adopted. */
  LEASE_TTL_MS: z.coerce.number().int().min(300).default(15_000),
  /** `late` (default): tasks wait in the gateway and go to a server when it has room; `early`: bound to a server at submit. */
  SCHEDULING: z.enum(["late", "early"]).default("late"),
  /** Late scheduling: tasks handed to a server beyond its running one (the next upload overlaps the run). */
  DISPATCH_DEPTH: z.coerce.number().int().min(0).max(20).default(1),
  /** Late scheduling: `on`: a server gone idle with nothing waiting that it can take takes back a task prepared behind another server's job. */
  DISPATCH_STEAL: z.enum(["on", "off"]).default("on"),
  /** Late scheduling: `frontend:weight,...`, the share of the GPUs each frontend gets while several wait; unset: 1 each. */
  FRONTEND_WEIGHTS: z.string().default(""),
  /** Late scheduling: a task no live server can take fails after waiting this long. */
  QUEUE_MAX_WAIT_MS: z.coerce.number().int().min(1).default(600_000),
  /** Late scheduling: the dispatcher's safety rescan of the database (wakes on events in between). */
  DISPATCH_RESCAN_MS: z.coerce.number().int().min(20).default(2_000),
  /** Late scheduling: waiting tasks a dispatch pass reads per frontend at a time (only while a server has room). */
  DISPATCH_HEAD_PAGE: z.coerce.number().int().min(1).max(10_000).default(64),
  /** Several replicas: the dispatcher lease's TTL in Redis (renewed every third of it); another replica takes over within it. */
  DISPATCH_LEASE_MS: z.coerce.number().int().min(300).default(6_000),
  POOL_FAILURES_BEFORE_DOWN: z.coerce.number().int().positive().default(2),
  /** Node: how often progress sockets are pinged; one missed pong drops the socket. Bun: idle timeout is twice this. */
  WS_HEARTBEAT_MS: z.coerce.number().int().min(100).default(30_000),
  MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  WORKFLOWS_DIR: z.string().min(1).default("./workflows"),
  /** Set when several replicas run: task events are shared through Redis pub/sub. */
  REDIS_URL: z.url().refine((url) => /^rediss?:\/\//.test(url), "must be a redis:// URL").optional(),
  REDIS_CHANNEL: z.string().min(1).max(200).default("aipack:task-events"),
  /** `off` only for local development: every request acts as the operator; refused unless HOST is loopback. */
  AUTH: z.enum(["on", "off"]).default("on"),
  /** `on` (set by `npm run demo`): POST /demo/login mints user tokens for the demo page; loopback HOST only. */
  DEMO_LOGIN: z.enum(["on", "off"]).default("off"),
  /** The operator's key (any secret string of 32+ characters); more with `npm run keys -- create --admin`. */
  ADMIN_KEY: z.string().min(32, "must be at least 32 characters").optional(),
  /** Frontend keys given by the environment (from `npm run keys -- generate --frontend <name>`), comma-separated. */
  API_KEYS: csv.optional(),
  /** Signs the expiring URLs of uploaded inputs (local storage); unset: made once in DATA_DIR/auth/url-secret. */
  URL_SIGNING_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** How long a signed input URL handed to its owner stays valid. */
  INPUT_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(3600),
  STORAGE: z.enum(["local", "oss"]).default("local"),
  /** Local storage: /readyz says not ready while the disk has less free space than this. */
  STORAGE_MIN_FREE_BYTES: z.coerce.number().int().min(0).default(64 * 1024 * 1024),
  /** The bearer token Prometheus sends to /metrics; unset keeps /metrics shut. */
  METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  OSS_REGION: z.string().min(1).optional(),
  OSS_BUCKET: z.string().min(1).optional(),
  OSS_ACCESS_KEY_ID: z.string().min(1).optional(),
  OSS_ACCESS_KEY_SECRET: z.string().min(1).optional(),
  OSS_ENDPOINT: z.url().optional(),
  OSS_PUBLIC_BASE_URL: z.url().optional(),
  ...limitsEnvShape,
  ...webhooksEnvShape,
});

export type Env = z.infer<typeof envSchema>;

/** Variables whose values never appear in an error message. */
export const secretVariables = new Set(["METRICS_TOKEN", "ADMIN_KEY", "API_KEYS", "URL_SIGNING_SECRET", "OSS_ACCESS_KEY_SECRET", "OSS_ACCESS_KEY_ID", "DATABASE_URL", "REDIS_URL"]);

/** Per-frontend database URL overrides: DATABASE_URL_STYLE=mysql://.../other_db. */
export function frontendDatabaseOverrides(env: Record<string, string | undefined>): Map<string, string> {
  const overrides = new Map<string, string>();
  for (const [key, value] of Object.entries(env)) {
    const match = /^DATABASE_URL_([A-Z0-9_]+)$/.exec(key);
    if (match?.[1] && value) overrides.set(match[1].toLowerCase(), value);
  }
  return overrides;
}
