import { expect } from "vitest";
import { isFinalMessage, type ProgressClient, type WsMessage } from "./ws-client.ts";

/** Every client got progress that never went back, and the same final success. */
export async function expectMonotonicProgressAndSameResult(clients: ProgressClient[]): Promise<WsMessage[]> {
  const finals = await Promise.all(clients.map((client) => client.waitFor(isFinalMessage, 30_000)));
  for (const [index, client] of clients.entries()) {
    const progress = client.messages.filter((m) => m.type === "progress");
    expect(progress.length, `client ${index}`).toBeGreaterThan(0);
    const percents = progress.map((m) => m.percent as number);
    expect(percents, `client ${index}`).toEqual([...percents].sort((a, b) => a - b));
    // Nothing after the final message.
    expect(client.messages.at(-1)?.type).toBe(finals[index]!.type);
  }
  expect(finals.every((f) => f.type === "succeeded")).toBe(true);
  const urls = new Set(finals.map((f) => JSON.stringify(f.outputUrls)));
  expect(urls.size).toBe(1);
  return finals;
}

export const txt2imgParams = (steps: number) => JSON.stringify({ prompt: "a small fox logo", steps, width: 256, height: 256 });
