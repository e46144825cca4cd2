import { Webhook } from "standardwebhooks";
import { checkDestination, DestinationRefused, guardedLookup } from "./destination.ts";
import { postOnce } from "./post.ts";

/** How one attempt ended: the receiver's status, or no answer (and why). */
export type AttemptResult = { status: number } | { status: null; error: string; refused: boolean };

/**
 * The Standard Webhooks headers of one attempt: `webhook-id` is the delivery's and stays the same
 * on every attempt; the timestamp and the signature (`v1,<base64 HMAC-SHA256>`, made by the
 * `standardwebhooks` package) are this attempt's, so a receiver's freshness check passes on a retry.
 */
export function signedHeaders(secret: string, id: string, body: string, at: Date): Record<string, string> {
  return {
    "content-type": "application/json",
    "user-agent": "aipack-webhooks/1",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(id, at, body),
  };
}

/**
 * One signed POST of a delivery to its endpoint; never rejects. The destination is checked at
 * every attempt, and again at connect time (guardedLookup): DNS may have changed since the endpoint
 * was registered.
 */
export async function sendSigned(
  endpoint: { url: string; secret: string },
  delivery: { id: string; payload: unknown },
  options: { at: Date; timeoutMs: number; allowed: (address: string) => boolean; signal: AbortSignal },
): Promise<AttemptResult> {
  const body = JSON.stringify(delivery.payload);
  const headers = signedHeaders(endpoint.secret, delivery.id, body, options.at);
  const started = Date.now();
  try {
    // getaddrinfo cannot be cancelled: a stalled resolver is given up on within the attempt's bound.
    await withDeadline(checkDestination(endpoint.url, options.allowed), options.timeoutMs, "DNS lookup timed out");
    const lookup = guardedLookup(options.allowed);
    const timeoutMs = Math.max(1, options.timeoutMs - (Date.now() - started));
    return { status: await postOnce(new URL(endpoint.url), body, headers, { timeoutMs, lookup, signal: options.signal }) };
  } catch (error) {
    const refused = error instanceof DestinationRefused || (error as { cause?: unknown }).cause instanceof DestinationRefused;
    if (refused) return { status: null, error: "destination not allowed", refused };
    return { status: null, error: error instanceof Error ? error.message : String(error), refused };
  }
}

function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
