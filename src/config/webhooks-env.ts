import { isIP } from "node:net";
import { z } from "zod";

/** `90s`, `30m`, `24h`, `2d` (or plain milliseconds) → milliseconds. */
const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)?$/, "a duration like 90s, 30m, 24h or 2d")
  .transform((value) => {
    const [, amount = "0", unit = "ms"] = /^(\d+)([a-z]*)$/.exec(value) ?? [];
    const scale: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
    return Number(amount) * scale[unit]!;
  })
  .refine((ms) => ms >= 1_000, "at least 1s");

const addressOrRange = (entry: string) => {
  const [address = "", prefix] = entry.split("/");
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
};

/** The webhook settings (README "Webhooks"). */
export const webhooksEnvShape = {
  /** How long a webhook is retried before it is given up. */
  WEBHOOK_RETRY_FOR: duration.default(24 * 3_600_000),
  /** The first retry's delay; each next one doubles (±25 % jitter), up to an hour. */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).default(5_000),
  /** Bound of one delivery attempt. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** `true`: webhooks may go to private, loopback and link-local addresses too. */
  WEBHOOK_ALLOW_PRIVATE: z.enum(["true", "false"]).default("false"),
  /** Special-use addresses or ranges webhooks may reach nonetheless, comma-separated (`127.0.0.1`, `10.2.0.0/16`). */
  WEBHOOK_ALLOWED_ADDRESSES: z
    .string()
    .transform((value) => value.split(",").map((item) => item.trim()).filter(Boolean))
    .refine((entries) => entries.every(addressOrRange), "comma-separated IP addresses or CIDR ranges")
    .optional(),
};

export interface WebhookConfig {
  retryForMs: number;
  retryBaseMs: number;
  timeoutMs: number;
  allowPrivate: boolean;
  allowedAddresses: string[];
}

export function webhookConfig(env: z.infer<z.ZodObject<typeof webhooksEnvShape>>): WebhookConfig {
  return {
    retryForMs: env.WEBHOOK_RETRY_FOR,
    retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    allowPrivate: env.WEBHOOK_ALLOW_PRIVATE === "true",
    allowedAddresses: env.WEBHOOK_ALLOWED_ADDRESSES ?? [],
  };
}
