import { Hono } from "hono";
import type { UpgradeWebSocket, WSContext } from "hono/ws";
import type { AppEnv } from "../app-env.ts";
import { isKnownFrontend } from "../controllers/db-controller-map.ts";
import { describeIssues } from "../lib/validate.ts";
import { ProgressSession } from "../realtime/progress-session.ts";
import { clientMessageSchema, closeCodes, wsQuerySchema, type WsErrorMessage } from "../realtime/ws-protocol.ts";

function refuse(socket: WSContext, error: Omit<WsErrorMessage, "type">, code: number): void {
  socket.send(JSON.stringify({ type: "error", ...error }));
  socket.close(code, error.message.slice(0, 120));
}

/**
 * GET /api/ws?frontend=&taskId=&previews=1: a task's progress, then its result. Bad requests are
 * accepted and then refused with an error message and a close code, so browsers can see why.
 */
export function createWsRouter(upgradeWebSocket: UpgradeWebSocket) {
  return new Hono<AppEnv>().get(
    "/",
    upgradeWebSocket((c) => {
      const { controllers, hub, sockets } = c.get("deps");
      const query = wsQuerySchema.safeParse(c.req.query());
      const frontend = query.success ? query.data.frontend : undefined;
      const db = frontend && isKnownFrontend(frontend) ? controllers.get(frontend) : undefined;
      let session: ProgressSession | undefined;
      return {
        onOpen(_event, socket) {
          if (!query.success) return refuse(socket, { code: "bad_message", message: describeIssues(query.error.issues) }, closeCodes.badRequest);
          if (!db || !frontend) {
            const message = `Unknown frontend "${frontend ?? ""}"; one of: ${[...controllers.keys()].join(", ")}`;
            return refuse(socket, { code: "unknown_frontend", message }, closeCodes.badRequest);
          }
          sockets.add(socket);
          session = new ProgressSession(socket, frontend, db, hub, query.data.previews === "1");
          if (query.data.taskId) void session.subscribe(query.data.taskId, true);
        },
        onMessage(event, socket) {
          if (!session) return;
          let json: unknown;
          try {
            json = JSON.parse(String(event.data));
          } catch {
            json = undefined;
          }
          const message = clientMessageSchema.safeParse(json);
          if (!message.success) {
            socket.send(JSON.stringify({ type: "error", code: "bad_message", message: 'Send {"type":"subscribe"|"unsubscribe","taskId":"..."}' }));
            return;
          }
          if (message.data.type === "subscribe") void session.subscribe(message.data.taskId, false);
          else session.unsubscribe(message.data.taskId);
        },
        onClose(_event, socket) {
          session?.close();
          sockets.delete(socket);
        },
      };
    }),
  );
}
