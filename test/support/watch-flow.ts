import { expect } from "vitest";
import type { FakeComfy } from "../fake-comfy/index.ts";
import { isFinalStatus, pollQueue } from "./task-client.ts";
import { isFinalMessage, openProgressClient, type ProgressClient, type WsMessage } from "./ws-client.ts";

/** Every client got progress that never went back, and the same final success. */
export async function expectMonotonicProgressAndSameResult(clients: ProgressClient[]): Promise<WsMessage[]> {
  const finals = await Promise.all(clients.map((client) => client.waitFor(isFinalMessage, 30_000)));
  for (const [index, client] of clients.entries()) {
    const progress = client.messages.filter((m) => m.type === "progress");
    expect(progress.length, `client ${index}`).toBeGreaterThan(0);
    // A null percent would sort as 0 and pass the order check, so numbers are checked first.
    const percents = progress.map((m) => m.percent);
    for (const percent of percents) expect(percent, `client ${index}`).toEqual(expect.any(Number));
    expect(percents, `client ${index}`).toEqual([...(percents as number[])].sort((a, b) => a - b));
    // Exactly one final message, and nothing after it.
    expect(client.messages.filter(isFinalMessage), `client ${index}`).toHaveLength(1);
    expect(client.messages.at(-1)?.type).toBe(finals[index]!.type);
  }
  expect(finals.every((f) => f.type === "succeeded")).toBe(true);
  const urls = new Set(finals.map((f) => JSON.stringify(f.outputUrls)));
  expect(urls.size).toBe(1);
  return finals;
}

export const txt2imgParams = (steps: number) => JSON.stringify({ prompt: "a small fox logo", steps, width: 256, height: 256 });

const ownerSteps = 25;

/**
 * The product owner's flow against a gateway at `baseUrl` whose only ComfyUI, `fake`, starts paused
 * (so the queued state is there however slow the machine) and is slow enough per step that a poll
 * lands while the job runs: a job waits behind another, its client opens the socket, polls
 * GET /api/queue (`ahead: 1`), the fake is released, polls until `running`, then hears progress
 * and the success, whose URL downloads.
 */
export async function expectProductOwnerFlow(baseUrl: string, submit: (steps: number) => Promise<string>, fake: FakeComfy): Promise<void> {
  expect(fake.options.paused).toBe(true);
  const blocker = await submit(20);
  const taskId = await submit(ownerSteps);
  expect(blocker).not.toBe(taskId);
  const client = await openProgressClient(`${baseUrl.replace(/^http/, "ws")}/api/ws?frontend=logo&taskId=${taskId}`);
  await client.waitFor((m) => m.type === "subscribed");
  const queued = await pollQueue(baseUrl, "logo", taskId, (a) => a.status === "queued" && a.ahead === 1, 20);
  expect(queued.at(-1)).toMatchObject({ status: "queued", ahead: 1, running: false });
  fake.setOptions({ paused: false });
  const polls = await pollQueue(baseUrl, "logo", taskId, (a) => a.running || isFinalStatus(a), 20);
  // Stopping on a final status too would let a run that never showed `running` pass.
  expect(polls.at(-1)).toMatchObject({ status: "running", running: true });
  const final = await client.waitFor(isFinalMessage, 30_000);
  expect(final).toMatchObject({ type: "succeeded", taskId, outputUrls: [expect.stringContaining("/files/logo/outputs/")] });
  const download = await fetch(String((final.outputUrls as string[])[0]));
  expect(download.status).toBe(200);
  expect((await download.arrayBuffer()).byteLength).toBeGreaterThan(0);
  const types = client.messages.map((m) => m.type);
  expect(types).toContain("queued");
  expect(types.indexOf("running")).toBeLessThan(types.indexOf("progress"));
  const progress = client.messages.filter((m) => m.type === "progress");
  expect(progress.map((m) => m.value)).toEqual(Array.from({ length: ownerSteps }, (_, i) => i + 1));
  expect(progress.every((m) => m.max === ownerSteps && m.taskId === taskId)).toBe(true);
  expect(client.messages.filter(isFinalMessage)).toHaveLength(1);
}
