import { randomBytes } from "node:crypto";

/** A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes; shown once, at registration. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}
