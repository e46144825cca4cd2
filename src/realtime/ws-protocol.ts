import { z } from "zod";
import { taskEventSchema } from "./task-events.ts";

// The WebSocket protocol of /api/ws. Server → client messages are task events (see
// task-events.ts), `error`, `subscribed` and, for previews, a binary frame.

/** What a client may send. */
export const clientMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("subscribe"), taskId: z.string().min(1).max(64) }),
  z.object({ type: z.literal("unsubscribe"), taskId: z.string().min(1).max(64) }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

export const wsErrorMessageSchema = z.object({
  type: z.literal("error"),
  code: z.enum(["unknown_frontend", "unauthorized", "forbidden", "not_found", "bad_message", "too_slow", "unavailable", "too_many_sockets"]),
  message: z.string(),
  taskId: z.string().optional(),
});
export type WsErrorMessage = z.infer<typeof wsErrorMessageSchema>;

export const subscribedMessageSchema = z.object({ type: z.literal("subscribed"), taskId: z.string(), status: z.string() });

export const serverMessageSchema = z.union([taskEventSchema, wsErrorMessageSchema, subscribedMessageSchema]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

/** Query of the upgrade request. */
export const wsQuerySchema = z.object({
  // Bounded so an absurd value is refused as a bad request instead of travelling into messages.
  frontend: z.string().max(40).optional(),
  taskId: z.string().min(1).max(64).optional(),
  /** A user token, for browsers (which cannot set headers on the upgrade); prefer the subprotocol. */
  token: z.string().max(2048).optional(),
  /** "1" to receive ComfyUI's preview images as binary frames. */
  previews: z.enum(["0", "1"]).optional(),
});

/**
 * Close codes: 1001 going away (shutdown), 1011 a database the socket needs is unavailable,
 * 4400 bad request, 4401 the user token expired (the client reconnects with a fresh one), 4403 a
 * credential of another frontend, 4404 unknown task, 4408 too slow, 4429 too many sockets from one
 * client.
 */
export const closeCodes = { goingAway: 1001, unavailable: 1011, badRequest: 4400, unauthorized: 4401, forbidden: 4403, notFound: 4404, tooSlow: 4408, tooMany: 4429 } as const;

/**
 * Close reasons: fixed ASCII, because a close reason may hold at most 123 bytes and a longer one
 * makes `ws` throw instead of closing. The details go in the JSON `error` message sent before.
 */
export const closeReasons = {
  goingAway: "server shutting down",
  unavailable: "database unavailable",
  badRequest: "bad request",
  unauthorized: "token expired",
  forbidden: "forbidden",
  notFound: "unknown task",
  tooSlow: "client too slow",
  tooMany: "too many sockets",
} as const satisfies Record<keyof typeof closeCodes, string>;

/** Most tasks one socket may follow at once; each costs a hub listener and a database read. */
export const maxSubscriptionsPerSocket = 100;

/** Bad messages one socket may send before it is closed (4400). */
export const maxBadMessages = 5;

/**
 * Binary preview frame sent to clients that opted in: 1 byte format (1 = JPEG, 2 = PNG), 1 byte
 * task id length, the task id in ASCII, then the image bytes.
 */
export function encodeClientPreview(taskId: string, format: "jpeg" | "png", bytes: Uint8Array): Uint8Array {
  const id = new TextEncoder().encode(taskId);
  const frame = new Uint8Array(2 + id.length + bytes.length);
  frame[0] = format === "jpeg" ? 1 : 2;
  frame[1] = id.length;
  frame.set(id, 2);
  frame.set(bytes, 2 + id.length);
  return frame;
}
