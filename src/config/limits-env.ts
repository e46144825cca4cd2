import { z } from "zod";

const positive = z.coerce.number().int().positive();
const atLeast0 = z.coerce.number().int().min(0);

/**
 * The abuse limits' settings, merged into envSchema. Every default lets an honest client (one poll
 * a second per task, a few tasks at once) stay well inside, and one client never take everything.
 */
export const limitsEnvShape = {
  /** Largest width × height of an uploaded image. */
  MAX_IMAGE_PIXELS: positive.default(25_000_000),
  /** Largest file the gateway downloads from ComfyUI's /view. */
  MAX_VIEW_BYTES: positive.default(64 * 1024 * 1024),
  /** Largest JSON (or other non-upload) request body. */
  MAX_JSON_BYTES: positive.default(16 * 1024),
  /** Most parts in a multipart submit (it has five). */
  MAX_FORM_FIELDS: positive.default(16),
  /** Node and Bun: how long a client may take to send its headers, and a whole request (uploads). */
  HEADERS_TIMEOUT_MS: positive.default(10_000),
  REQUEST_TIMEOUT_MS: positive.default(60_000),
  /**
   * Node: how long an idle keep-alive connection stays open. Longer than the clients' and proxies'
   * own (undici 4 s, nginx and cloud load balancers 60 s): a server that closes first races a
   * request sent on the closing socket, which the client sees as ECONNRESET (Node's default is 5 s).
   */
  KEEP_ALIVE_TIMEOUT_MS: positive.default(65_000),
  /** mysql2: queries waiting for a connection beyond this many are refused at once (503). */
  DB_QUEUE_LIMIT: positive.default(200),
  /** Largest client WebSocket message (the protocol's are under 200 bytes). */
  WS_MAX_PAYLOAD: z.coerce.number().int().min(256).default(4096),
  WS_MAX_PER_ADDRESS: positive.default(32),
  WS_MAX_PER_USER: positive.default(8),
  /** Client messages per socket per second; the excess counts as bad messages. */
  WS_MESSAGES_PER_SECOND: positive.default(10),
  /** Requests per minute and client (key, user or address): submits, polls, everything else. */
  RATE_SUBMITS_PER_MINUTE: positive.default(20),
  RATE_POLLS_PER_MINUTE: positive.default(600),
  RATE_OTHER_PER_MINUTE: positive.default(300),
  /** Addresses of the reverse proxies whose X-Forwarded-For is believed (comma-separated); unset: none. */
  TRUSTED_PROXIES: z
    .string()
    .transform((value) => value.split(",").map((item) => item.trim()).filter(Boolean))
    .optional(),
  /** Unfinished tasks one user may have (MAX_UNFINISHED_TASKS_<FRONTEND> overrides per frontend). */
  MAX_UNFINISHED_TASKS: positive.default(3),
  /** Pending jobs one ComfyUI server may hold before submits get 503 queue_full. */
  POOL_MAX_PENDING_PER_SERVER: positive.default(20),
  /** Logos one user may ask for per UTC day; 0 turns the quota off. */
  LOGO_DAILY_QUOTA: atLeast0.default(30),
};

/** Per-frontend unfinished-task caps: MAX_UNFINISHED_TASKS_LOGO=5. */
export function unfinishedTaskOverrides(env: Record<string, string | undefined>): Map<string, number> {
  const overrides = new Map<string, number>();
  for (const [key, value] of Object.entries(env)) {
    const match = /^MAX_UNFINISHED_TASKS_([A-Z0-9_]+)$/.exec(key);
    const parsed = positive.safeParse(value);
    if (match?.[1] && parsed.success) overrides.set(match[1].toLowerCase(), parsed.data);
  }
  return overrides;
}
