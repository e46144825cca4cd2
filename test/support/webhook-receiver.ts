import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { onTestFinished } from "vitest";

/** One request a receiver got: the Standard Webhooks headers and the raw body. */
export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
}

/** What the receiver answers to its n-th request (0-based): a status, or "hold" to keep it open. */
export type ReceiverAnswer = number | "hold";

/**
 * A real HTTP receiver on 127.0.0.1 (port 0), as a frontend's backend would run one. It records
 * every request, answers from `script` (then 204), and holds requests told "hold" until `release`.
 * Closed when the test ends.
 */
export async function startReceiver(script: (index: number) => ReceiverAnswer = () => 204) {
  const received: ReceivedWebhook[] = [];
  const held: ServerResponse[] = [];
  let answer = script;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const index = received.length;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) if (typeof value === "string") headers[name] = value;
      received.push({ headers, body: Buffer.concat(chunks).toString("utf8") });
      const status = answer(index);
      if (status === "hold") held.push(response);
      else response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  onTestFinished(close);
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    received,
    /** Requests held open now. */
    get heldCount() {
      return held.filter((response) => !response.writableEnded && !response.destroyed).length;
    },
    /** Answers every held request with `status`; later requests follow `next` (default: 204). */
    release(status = 204, next: (index: number) => ReceiverAnswer = () => 204) {
      answer = next;
      for (const response of held.splice(0)) if (!response.destroyed) response.writeHead(status).end();
    },
    close,
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
