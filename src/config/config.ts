import path from "node:path";
import { z } from "zod";
import { parseKey } from "../lib/key-format.ts";
import { parseFrontendWeights } from "../lib/frontend-weights.ts";
import { PublicOrigin } from "../lib/public-origin.ts";
import { parseComfyServers, type ServerEntry } from "../pool/server-list.ts";
import type { StorageConfig } from "../storage/index.ts";
import { limitsFrom, type Limits } from "./limits.ts";
import { envSchema, frontendDatabaseOverrides, secretVariables } from "./env.ts";
import { webhookConfig, type WebhookConfig } from "./webhooks-env.ts";

/** A configuration problem, told in one line that names the variable and never its secret value. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export type DatabaseTarget =
  | { kind: "mysql"; url: string; database: string }
  | { kind: "sqlite"; file: string };

export interface Config {
  port: number;
  host: string;
  /** PUBLIC_BASE_URL, or derived from HOST and the bound port (see lib/public-origin.ts). */
  publicOrigin: PublicOrigin;
  dataDir: string;
  instanceId?: string;
  frontends: string[];
  corsOrigins: string[];
  databases: Record<string, DatabaseTarget>;
  comfyServers: ServerEntry[];
  comfyTimeoutMs: number;
  comfyLostAfterMs: number;
  queueReadWindowMs: number;
  poolCheckIntervalMs: number;
  poolFailuresBeforeDown: number;
  maxUploadBytes: number;
  wsHeartbeatMs: number;
  redis?: { url: string; channel: string };
  workflowsDir: string;
  storage: StorageConfig;
  limits: Limits;
  metricsToken?: string;
  reconcileIntervalMs: number;
  leaseTtlMs: number;
  scheduling: SchedulingConfig;
  logLevel: "debug" | "info" | "warn" | "error";
  auth: AuthConfig;
  webhooks: WebhookConfig;
}

/** How tasks reach servers (README: "How tasks wait and move"). */
export interface SchedulingConfig {
  policy: "late" | "early";
  depth: number;
  /** An idle server takes back a task prepared behind another server's job (work-conserving). */
  steal: boolean;
  weights: Record<string, number>;
  maxWaitMs: number;
  rescanMs: number;
  /** Waiting tasks a dispatch pass reads per frontend at a time. */
  headPage: number;
  leaseMs: number;
}

export interface AuthConfig {
  enabled: boolean;
  /** The demo page's stand-in backend (POST /demo/login). */
  demoLogin: boolean;
  adminKey?: string;
  envKeys: string[];
  urlSigningSecret?: string;
  inputUrlTtlSeconds: number;
}

const loopbackHosts = new Set(["127.0.0.1", "::1", "localhost", "[::1]"]);

function authConfig(env: z.infer<typeof envSchema>, frontends: string[]): AuthConfig {
  const loopback = loopbackHosts.has(env.HOST) || /^127\./.test(env.HOST);
  if (env.AUTH === "off" && !loopback) {
    throw new ConfigError(`AUTH: "off" is only allowed with a loopback HOST (127.0.0.1 or ::1), not ${env.HOST}`);
  }
  if (env.DEMO_LOGIN === "on" && !loopback) {
    throw new ConfigError(`DEMO_LOGIN: "on" hands out user tokens to anyone; only allowed with a loopback HOST, not ${env.HOST}`);
  }
  const envKeys = env.API_KEYS ?? [];
  for (const [index, key] of envKeys.entries()) {
    const parsed = parseKey(key);
    // The key itself is never echoed: only its position.
    if (!parsed) throw new ConfigError(`API_KEYS: entry ${index + 1} is not a key (make one with npm run keys -- generate --frontend <name>)`);
    if (!frontends.includes(parsed.scope)) throw new ConfigError(`API_KEYS: entry ${index + 1} belongs to "${parsed.scope}", which is not enabled`);
  }
  return {
    enabled: env.AUTH === "on",
    demoLogin: env.DEMO_LOGIN === "on" && env.AUTH === "on",
    adminKey: env.ADMIN_KEY,
    envKeys,
    urlSigningSecret: env.URL_SIGNING_SECRET,
    inputUrlTtlSeconds: env.INPUT_URL_TTL_SECONDS,
  };
}

function schedulingConfig(env: z.infer<typeof envSchema>, frontends: string[]): SchedulingConfig {
  let weights: Record<string, number>;
  try {
    weights = parseFrontendWeights(env.FRONTEND_WEIGHTS);
  } catch (error) {
    throw new ConfigError(`FRONTEND_WEIGHTS: ${(error as Error).message}`);
  }
  const unknown = Object.keys(weights).find((name) => !frontends.includes(name));
  if (unknown) throw new ConfigError(`FRONTEND_WEIGHTS: "${unknown}" is not an enabled frontend`);
  return {
    policy: env.SCHEDULING,
    depth: env.DISPATCH_DEPTH,
    steal: env.DISPATCH_STEAL === "on",
    weights,
    maxWaitMs: env.QUEUE_MAX_WAIT_MS,
    rescanMs: env.DISPATCH_RESCAN_MS,
    headPage: env.DISPATCH_HEAD_PAGE,
    leaseMs: env.DISPATCH_LEASE_MS,
  };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const variable = issue.path.join(".") || "environment";
  const message = secretVariables.has(variable) ? issue.message.replace(/"[^"]*"/g, '"***"') : issue.message;
  return `${variable}: ${message}`;
}

function databaseTargets(
  env: z.infer<typeof envSchema>,
  frontends: string[],
  overrides: Map<string, string>,
): Record<string, DatabaseTarget> {
  const targets: Record<string, DatabaseTarget> = {};
  for (const frontend of frontends) {
    const override = overrides.get(frontend);
    const base = override ?? env.DATABASE_URL;
    if (!base) {
      targets[frontend] = { kind: "sqlite", file: path.resolve(env.DATA_DIR, "db", `${frontend}.db`) };
      continue;
    }
    const variable = override ? `DATABASE_URL_${frontend.toUpperCase()}` : "DATABASE_URL";
    // new URL() puts the whole input, password included, on the error it throws: never let it out.
    if (!URL.canParse(base)) throw new ConfigError(`${variable}: not a valid URL (mysql://user:pass@host:3306/db)`);
    const url = new URL(base);
    if (url.protocol !== "mysql:") {
      throw new ConfigError(`${variable}: must be a mysql:// URL`);
    }
    // A database named in the override URL wins; otherwise each frontend gets <prefix><frontend>.
    const named = override ? url.pathname.replace(/^\//, "") : "";
    url.pathname = "/";
    targets[frontend] = { kind: "mysql", url: url.toString(), database: named || `${env.DATABASE_PREFIX}${frontend}` };
  }
  return targets;
}

function storageConfig(env: z.infer<typeof envSchema>, publicOrigin: PublicOrigin): StorageConfig {
  if (env.STORAGE === "local") {
    return { kind: "local", dir: path.resolve(env.DATA_DIR, "files"), publicOrigin, minFreeBytes: env.STORAGE_MIN_FREE_BYTES };
  }
  const required = ["OSS_REGION", "OSS_BUCKET", "OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET"] as const;
  const missing = required.find((name) => !env[name]);
  if (missing) throw new ConfigError(`${missing}: required when STORAGE=oss`);
  return {
    kind: "oss",
    region: env.OSS_REGION!,
    bucket: env.OSS_BUCKET!,
    accessKeyId: env.OSS_ACCESS_KEY_ID!,
    accessKeySecret: env.OSS_ACCESS_KEY_SECRET!,
    endpoint: env.OSS_ENDPOINT,
    publicBaseUrl: env.OSS_PUBLIC_BASE_URL,
  };
}

function comfyServers(value: string): ServerEntry[] {
  try {
    return parseComfyServers(value);
  } catch (error) {
    const issues = error instanceof z.ZodError ? error.issues.map((issue) => issue.message).join("; ") : String(error);
    throw new ConfigError(`COMFY_SERVERS: ${issues}`);
  }
}

/**
 * Reads the configuration from an environment map. Throws ConfigError with one clear line on the
 * first problem; `knownFrontends` comes from the DBController map.
 */
export function loadConfig(source: Record<string, string | undefined>, knownFrontends: readonly string[]): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map(describeIssue).join("; "));
  }
  const env = parsed.data;
  const frontends = env.FRONTENDS ?? [...knownFrontends];
  const unknown = frontends.find((name) => !knownFrontends.includes(name));
  if (unknown) {
    throw new ConfigError(`FRONTENDS: unknown frontend "${unknown}" (known: ${knownFrontends.join(", ")})`);
  }
  if (frontends.length === 0) throw new ConfigError("FRONTENDS: names no frontend");
  const publicOrigin = new PublicOrigin(env.PUBLIC_BASE_URL, env.HOST, env.PORT);
  return {
    port: env.PORT,
    host: env.HOST,
    publicOrigin,
    dataDir: path.resolve(env.DATA_DIR),
    instanceId: env.INSTANCE_ID,
    frontends,
    corsOrigins: env.CORS_ORIGINS ?? [],
    databases: databaseTargets(env, frontends, frontendDatabaseOverrides(source)),
    comfyServers: comfyServers(env.COMFY_SERVERS),
    comfyTimeoutMs: env.COMFY_TIMEOUT_MS,
    comfyLostAfterMs: env.COMFY_LOST_AFTER_MS,
    queueReadWindowMs: env.QUEUE_READ_WINDOW_MS,
    poolCheckIntervalMs: env.POOL_CHECK_INTERVAL_MS,
    poolFailuresBeforeDown: env.POOL_FAILURES_BEFORE_DOWN,
    maxUploadBytes: env.MAX_UPLOAD_BYTES,
    wsHeartbeatMs: env.WS_HEARTBEAT_MS,
    redis: env.REDIS_URL ? { url: env.REDIS_URL, channel: env.REDIS_CHANNEL } : undefined,
    workflowsDir: path.resolve(env.WORKFLOWS_DIR),
    storage: storageConfig(env, publicOrigin),
    limits: limitsFrom(env, source),
    metricsToken: env.METRICS_TOKEN,
    reconcileIntervalMs: env.RECONCILE_INTERVAL_MS,
    leaseTtlMs: env.LEASE_TTL_MS,
    scheduling: schedulingConfig(env, frontends),
    logLevel: env.LOG_LEVEL,
    auth: authConfig(env, frontends),
    webhooks: webhookConfig(env),
  };
}
