import { createRoute } from "@hono/zod-openapi";
import { Hono } from "hono";
import { z } from "zod";
import type { UpgradeWebSocket, WSContext } from "hono/ws";
import { RateLimiterMemory } from "rate-limiter-flexible";
import type { AppEnv } from "../middleware/app-env.ts";
import { randomId } from "../lib/ids.ts";
import { clientAddress } from "../middleware/client-address.ts";
import { mayActOn, type Principal } from "../auth/principal.ts";
import { isKnownFrontend } from "../controllers/db-controller-map.ts";
import type { Clock } from "../lib/clock.ts";
import { describeIssues } from "../lib/validate.ts";
import { ProgressSession } from "../realtime/progress-session.ts";
import { clientMessageSchema, closeCodes, closeReasons, serverMessageSchema, wsQuerySchema, type WsErrorMessage } from "../realtime/ws-protocol.ts";
import { anyCaller, errorResponses } from "../lib/openapi.ts";

/** The details go in the JSON message; the close reason is a fixed ASCII word (123-byte limit). */
function refuse(socket: WSContext, error: Omit<WsErrorMessage, "type">): void {
  socket.send(JSON.stringify({ type: "error", ...error }));
  socket.close(closeCodes.badRequest, closeReasons.badRequest);
}

/**
 * Closes the socket (4401) when the user token it was opened with expires: a token's lifetime
 * bounds the socket's, as it bounds every poll. Keys do not expire (a revoke ends new requests).
 * Returns the cancel for when the socket closes first.
 */
function closeAtExpiry(socket: WSContext, principal: Principal, clock: Clock): () => void {
  if (principal.kind !== "user") return () => undefined;
  const timer = setTimeout(() => {
    socket.send(JSON.stringify({ type: "error", code: "unauthorized", message: "The user token expired; reconnect with a fresh one" }));
    socket.close(closeCodes.unauthorized, closeReasons.unauthorized);
  }, Math.max(0, principal.expiresAt.getTime() - clock.now().getTime()));
  timer.unref?.();
  return () => clearTimeout(timer);
}

/**
 * The progress WebSocket as the OpenAPI document shows it: the upgrade as an operation, and the
 * messages' own zod schemas as JSON Schema under `x-websocket` (OpenAPI has no words for them).
 */
export const wsRouteDoc = createRoute({
  method: "get",
  path: "/api/ws",
  tags: ["Realtime"],
  summary: "The progress WebSocket of one or more tasks",
  description:
    "Upgrade to a WebSocket. Browsers, which cannot set headers on it, send the user token as a subprotocol entry " +
    "(`new WebSocket(url, [\"aipack\", \"aipack.token.\" + token])`) or, as a last resort, as `?token=`. Bad requests are " +
    "accepted and then refused with an `error` message and a close code. Messages: see `x-websocket`.",
  security: anyCaller,
  request: { query: wsQuerySchema },
  responses: {
    101: { description: "Switching Protocols: the socket is open" },
    ...errorResponses("unauthorized", "rate_limited"),
  },
  "x-websocket": {
    clientMessages: z.toJSONSchema(clientMessageSchema, { target: "draft-2020-12" }),
    serverMessages: z.toJSONSchema(serverMessageSchema, { target: "draft-2020-12" }),
    binaryFrames:
      "With previews=1: ComfyUI's preview images, each frame 1 byte format (1 = JPEG, 2 = PNG), 1 byte task id length, the task id in ASCII, then the image bytes.",
    closeCodes: Object.fromEntries(Object.entries(closeCodes).map(([name, code]) => [String(code), closeReasons[name as keyof typeof closeCodes]])),
  },
});

/**
 * GET /api/ws?frontend=&taskId=&previews=1: a task's progress, then its result. Bad requests are
 * accepted and then refused with an error message and a close code, so browsers can see why.
 */
export function createWsRouter(upgradeWebSocket: UpgradeWebSocket) {
  let messageBudget: RateLimiterMemory | undefined;
  return new Hono<AppEnv>().get(
    "/",
    upgradeWebSocket((c) => {
      const { controllers, hub, sockets, logger, socketQuota, limits, getConnInfo, metrics, clock } = c.get("deps");
      messageBudget ??= new RateLimiterMemory({ points: limits.ws.messagesPerSecond, duration: 1, keyPrefix: "ws-messages" });
      const budget = messageBudget;
      // Authenticated by the middleware before the upgrade (401 without a valid credential).
      const principal = c.get("principal");
      const query = wsQuerySchema.safeParse(c.req.query());
      const frontend = query.success ? query.data.frontend : undefined;
      const db = frontend && isKnownFrontend(frontend) ? controllers.get(frontend) : undefined;
      // A user token's sockets also count against that user's cap, from whichever address.
      const quotaKeys = [`address:${clientAddress(c, getConnInfo, limits.trustedProxies)}`];
      if (principal.kind === "user") quotaKeys.push(`user:${principal.frontend}:${principal.userId}`);
      const socketId = randomId(12);
      let session: ProgressSession | undefined;
      let release: (() => void) | null = null;
      let stopExpiry: () => void = () => undefined;
      return {
        onOpen(_event, socket) {
          // Shutting down: the registry has already said 1001.
          if (!sockets.add(socket)) return;
          release = socketQuota.acquire(quotaKeys);
          if (!release) {
            socket.send(JSON.stringify({ type: "error", code: "too_many_sockets", message: "Too many open sockets from this client; close one first" }));
            return socket.close(closeCodes.tooMany, closeReasons.tooMany);
          }
          if (!query.success) return refuse(socket, { code: "bad_message", message: describeIssues(query.error.issues) });
          if (!db || !frontend) {
            const message = `Unknown frontend "${frontend ?? ""}"; one of: ${[...controllers.keys()].join(", ")}`;
            return refuse(socket, { code: "unknown_frontend", message });
          }
          if (!mayActOn(principal, frontend)) {
            socket.send(JSON.stringify({ type: "error", code: "forbidden", message: `This credential does not act on the ${frontend} frontend` }));
            return socket.close(closeCodes.forbidden, closeReasons.forbidden);
          }
          stopExpiry = closeAtExpiry(socket, principal, clock);
          const owner = principal.kind === "user" ? principal.userId : undefined;
          const relayed = (kind: "event" | "preview") => metrics.wsMessages.inc({ kind });
          session = new ProgressSession(socket, frontend, db, hub, query.data.previews === "1", logger, undefined, relayed, owner);
          if (query.data.taskId) void session.subscribe(query.data.taskId, true);
        },
        onMessage(event) {
          // Binary frames are not part of the client's protocol: they count as bad messages.
          const text = typeof event.data === "string" ? event.data : "";
          // Over the message rate, a message counts as bad (the 5th closes the socket): a flood of
          // subscribe/unsubscribe pairs once starved the database of every other caller.
          budget.consume(socketId).then(
            () => session?.receive(text),
            () => session?.refuse(`At most ${limits.ws.messagesPerSecond} messages per second`),
          );
        },
        onClose(_event, socket) {
          stopExpiry();
          session?.close();
          sockets.delete(socket);
          release?.();
          void budget.delete(socketId);
        },
      };
    }),
  );
}
