import type { ComfyStreamEvent } from "../../src/comfy/event-stream.ts";
import { defaultWebSocketImpl, type WebSocketConstructor } from "../../src/comfy/websocket-impl.ts";

/** The runtime's WebSocket, counting the connections a stream attempts (the signal that it retries). */
export function countingWebSocket(): { WebSocketImpl: WebSocketConstructor; attempts: () => number } {
  const Base = defaultWebSocketImpl();
  let attempts = 0;
  const WebSocketImpl = function (url: string) {
    attempts += 1;
    return new Base(url);
  } as unknown as WebSocketConstructor;
  return { WebSocketImpl, attempts: () => attempts };
}

/** The event ComfyUI sends when a prompt's run is over: `executing` with no node. */
export const finished = (promptId: string) => (e: ComfyStreamEvent) => e.type === "executing" && e.data.node === null && e.data.prompt_id === promptId;
