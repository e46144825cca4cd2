import { Hono } from "hono";
import type { UpgradeWebSocket, WSContext } from "hono/ws";
import { RateLimiterMemory } from "rate-limiter-flexible";
import type { AppEnv } from "../middleware/app-env.ts";
import { randomId } from "../lib/ids.ts";
import { clientAddress } from "../middleware/client-address.ts";
import { isKnownFrontend } from "../controllers/db-controller-map.ts";
import { describeIssues } from "../lib/validate.ts";
import { ProgressSession } from "../realtime/progress-session.ts";
import { closeCodes, closeReasons, wsQuerySchema, type WsErrorMessage } from "../realtime/ws-protocol.ts";

/** The details go in the JSON message; the close reason is a fixed ASCII word (123-byte limit). */
function refuse(socket: WSContext, error: Omit<WsErrorMessage, "type">): void {
  socket.send(JSON.stringify({ type: "error", ...error }));
  socket.close(closeCodes.badRequest, closeReasons.badRequest);
}

/**
 * GET /api/ws?frontend=&taskId=&previews=1: a task's progress, then its result. Bad requests are
 * accepted and then refused with an error message and a close code, so browsers can see why.
 */
export function createWsRouter(upgradeWebSocket: UpgradeWebSocket) {
  let messageBudget: RateLimiterMemory | undefined;
  return new Hono<AppEnv>().get(
    "/",
    upgradeWebSocket((c) => {
      const { controllers, hub, sockets, logger, socketQuota, limits, getConnInfo, metrics } = c.get("deps");
      messageBudget ??= new RateLimiterMemory({ points: limits.ws.messagesPerSecond, duration: 1, keyPrefix: "ws-messages" });
      const budget = messageBudget;
      const query = wsQuerySchema.safeParse(c.req.query());
      const frontend = query.success ? query.data.frontend : undefined;
      const db = frontend && isKnownFrontend(frontend) ? controllers.get(frontend) : undefined;
      // Once sockets are authenticated, add `user:<frontend>:<userId>` from c.get("principal") here.
      const quotaKeys = [`address:${clientAddress(c, getConnInfo, limits.trustedProxies)}`];
      const socketId = randomId(12);
      let session: ProgressSession | undefined;
      let release: (() => void) | null = null;
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
          const relayed = (kind: "event" | "preview") => metrics.wsMessages.inc({ kind });
          session = new ProgressSession(socket, frontend, db, hub, query.data.previews === "1", logger, undefined, relayed);
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
          session?.close();
          sockets.delete(socket);
          release?.();
          void budget.delete(socketId);
        },
      };
    }),
  );
}
