import { WSContext, type WSReadyState } from "hono/ws";

/** What a fake socket was asked to do, in order. */
export type SocketCall =
  | { kind: "text"; message: { type: string; [key: string]: unknown } }
  | { kind: "binary"; bytes: number }
  | { kind: "close"; code: number | undefined; reason: string | undefined }
  | { kind: "terminate" };

/**
 * A WSContext over a fake raw socket whose backlog the test sets, shaped like `ws`'s WebSocket
 * (`bufferedAmount`, `terminate()`), so the sender's bounds can be driven without a network.
 */
export function fakeSocket() {
  const calls: SocketCall[] = [];
  let readyState: WSReadyState = 1;
  const raw = {
    bufferedAmount: 0,
    terminate() {
      calls.push({ kind: "terminate" });
      readyState = 3;
    },
  };
  const socket = new WSContext({
    raw,
    get readyState() {
      return readyState;
    },
    send(data) {
      if (typeof data === "string") calls.push({ kind: "text", message: JSON.parse(data) as { type: string } });
      else calls.push({ kind: "binary", bytes: data.byteLength });
    },
    close(code, reason) {
      calls.push({ kind: "close", code, reason });
      readyState = 2;
    },
  });
  const messages = () => calls.flatMap((call) => (call.kind === "text" ? [call.message] : []));
  return { socket, raw, calls, messages };
}
