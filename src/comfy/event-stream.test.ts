import { randomUUID } from "node:crypto";
import { describe, expect, it, onTestFinished } from "vitest";
import { fakeForTest, queue, tracedWorkflows } from "../../test/fake-comfy/helpers.ts";
import { ComfyClient } from "./comfy-client.ts";
import { ComfyEventStream, wsUrlFor, type ComfyStreamEvent } from "./event-stream.ts";
import { countingWebSocket, finished } from "../../test/support/counting-websocket.ts";

const workflows = tracedWorkflows();

function streamForTest(baseUrl: string, extra: Partial<ConstructorParameters<typeof ComfyEventStream>[0]> = {}) {
  const stream = new ComfyEventStream({ baseUrl, clientId: `gw-${randomUUID()}`, minBackoffMs: 20, maxBackoffMs: 200, ...extra });
  const events: ComfyStreamEvent[] = [];
  stream.on((e) => events.push(e));
  onTestFinished(() => stream.close());
  const waitFor = (predicate: (e: ComfyStreamEvent) => boolean, timeoutMs = 20_000) =>
    new Promise<ComfyStreamEvent>((resolve, reject) => {
      const found = events.find(predicate);
      if (found !== undefined) return resolve(found);
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no matching event; got ${events.map((e) => e.type).join(",")}`));
      }, timeoutMs);
      const off = stream.on((e) => {
        if (!predicate(e)) return;
        clearTimeout(timer);
        off();
        resolve(e);
      });
    });
  return { stream, events, waitFor };
}


describe("ComfyEventStream", () => {
  it("builds ws and wss URLs with the client id", () => {
    expect(wsUrlFor("http://h:8188", "a b")).toBe("ws://h:8188/ws?clientId=a+b");
    expect(wsUrlFor("https://h/comfy/", "x")).toBe("wss://h/comfy/ws?clientId=x");
    expect(wsUrlFor("https://h/comfy", "x")).toBe("wss://h/comfy/ws?clientId=x");
  });

  it("delivers typed messages of a run and attributes previews to the executing prompt", async () => {
    const fake = await fakeForTest();
    const { stream, events, waitFor } = streamForTest(fake.url);
    await stream.ready();
    expect(events[0]).toEqual({ type: "connected" });
    const id = await queue(fake, workflows.progress, stream.clientId);
    await waitFor(finished(id));
    const types = events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["status", "execution_start", "execution_cached", "executing", "progress", "preview", "executed", "execution_success"]));
    const previews = events.filter((e) => e.type === "preview");
    expect(previews).toHaveLength(4);
    expect(previews.every((p) => p.type === "preview" && p.promptId === id && p.format === "png" && p.bytes[1] === 0x50)).toBe(true);
    const executed = events.find((e) => e.type === "executed");
    expect(executed?.type === "executed" && executed.data.output?.images?.length).toBe(4);
  });

  it("reports execution_error and execution_interrupted with their typed fields", async () => {
    const fake = await fakeForTest({ nodeDelayMs: { ImageBlur: 150 } });
    const { stream, waitFor } = streamForTest(fake.url);
    await stream.ready();
    const failed = await queue(fake, workflows.runtime_error, stream.clientId);
    const error = await waitFor((e) => e.type === "execution_error");
    expect(error.type === "execution_error" && error.data).toMatchObject({ prompt_id: failed, node_id: "2", node_type: "SaveImage", executed: ["1"] });
    const stopped = await queue(fake, workflows.interrupt, stream.clientId);
    await waitFor((e) => e.type === "executing" && e.data.node === "2");
    await fetch(`${fake.url}/interrupt`, { method: "POST" });
    const interrupted = await waitFor((e) => e.type === "execution_interrupted");
    expect(interrupted.type === "execution_interrupted" && interrupted.data).toMatchObject({ prompt_id: stopped, node_id: "3" });
  });

  it("current servers add progress_state, which parses", async () => {
    const fake = await fakeForTest({ version: "current" });
    const { stream, events, waitFor } = streamForTest(fake.url);
    await stream.ready();
    const id = await queue(fake, workflows.empty, stream.clientId);
    await waitFor(finished(id));
    expect(events.some((e) => e.type === "progress_state" && e.data.prompt_id === id)).toBe(true);
  });

  it("reconnects after the server drops the socket mid-run, reports the gap in order, and keeps delivering", async () => {
    // The node outlasts any reconnect, however busy the machine: the re-announce must find it running.
    const fake = await fakeForTest({ closeSocketsMidRun: true, nodeDelayMs: { ImageBlur: 3_000 } });
    const { stream, events, waitFor } = streamForTest(fake.url, { readQueue: () => new ComfyClient({ baseUrl: fake.url }).getQueue() });
    await stream.ready();
    const id = await queue(fake, workflows.progress, stream.clientId);
    const lost = await waitFor((e) => e.type === "disconnected");
    // The fake terminates the socket: an abnormal closure, no close frame and so no reason.
    expect(lost).toEqual({ type: "disconnected", reason: "code 1006" });
    const back = await waitFor((e) => e.type === "reconnected");
    // The backoff is at least 10 ms here, so a real gap was measured.
    expect(back.type === "reconnected" && back.downMs).toBeGreaterThan(0);
    expect(events.indexOf(lost)).toBeLessThan(events.indexOf(back));
    await waitFor(finished(id));
    const after = events.slice(events.indexOf(back));
    // The server welcomes, re-announces the executing node (attributed from /queue), then the run continues.
    expect(after.slice(0, 3).map((e) => e.type)).toEqual(["reconnected", "status", "executing"]);
    expect(after[2]?.type === "executing" && after[2].data.prompt_id).toBe(id);
    expect(after.map((e) => e.type)).toContain("execution_success");
    expect(after.filter((e) => e.type === "preview").every((p) => p.type === "preview" && p.promptId === id)).toBe(true);
    expect(fake.counters.wsConnections).toBe(2);
  });

  /** Cuts the socket while a node sends previews; returns the prompt id and the events after the reconnect. */
  async function reconnectMidNode(withQueueReader: boolean) {
    // A node that runs until interrupted: the reconnect lands inside it however busy the machine.
    const fake = await fakeForTest({ stepsPerNode: { SaveImageWebsocket: 1_000_000 }, msPerStep: 30 });
    const readQueue = () => new ComfyClient({ baseUrl: fake.url }).getQueue();
    const { stream, events, waitFor } = streamForTest(fake.url, withQueueReader ? { readQueue } : undefined);
    await stream.ready();
    const id = await queue(fake, workflows.progress, stream.clientId);
    await waitFor((e) => e.type === "preview");
    fake.dropConnections();
    const back = await waitFor((e) => e.type === "reconnected");
    const stepsAfter = () => events.slice(events.indexOf(back)).filter((e) => e.type === "progress").length;
    await expect.poll(stepsAfter, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
    const after = events.slice(events.indexOf(back));
    await fetch(`${fake.url}/interrupt`, { method: "POST" });
    await waitFor(finished(id));
    return { id, after };
  }

  it("previews of the node running across a reconnect keep their prompt (server.py re-announces `{ node }` only)", async () => {
    const { id, after } = await reconnectMidNode(true);
    const reannounced = after.find((e) => e.type === "executing");
    expect(reannounced?.type === "executing" && reannounced.data).toEqual({ node: "3", prompt_id: id });
    const previews = after.filter((e) => e.type === "preview");
    expect(previews.length).toBeGreaterThan(0);
    expect(previews.every((p) => p.type === "preview" && p.promptId === id)).toBe(true);
  });

  it("without a queue reader the re-announced `executing` is passed on without a prompt id", async () => {
    const { after } = await reconnectMidNode(false);
    const reannounced = after.find((e) => e.type === "executing");
    expect(reannounced?.type === "executing" && reannounced.data).toEqual({ node: "3" });
  });

  it("keeps retrying while the server is down and connects when it comes back", async () => {
    const fake = await fakeForTest();
    await fake.kill();
    const counting = countingWebSocket();
    const { stream, waitFor } = streamForTest(fake.url, { WebSocketImpl: counting.WebSocketImpl });
    const ready = stream.ready(10_000);
    await expect.poll(counting.attempts).toBeGreaterThanOrEqual(3);
    expect(stream.connected).toBe(false);
    await fake.start();
    await ready;
    await waitFor((e) => e.type === "connected");
    expect(stream.connected).toBe(true);
  });

  it("close() stops for good: no reconnect by the time a stream left open has reconnected", async () => {
    const fake = await fakeForTest();
    const counting = countingWebSocket();
    // No jitter: both streams wait the same backoff after a drop.
    const { stream } = streamForTest(fake.url, { WebSocketImpl: counting.WebSocketImpl, random: () => 1 });
    const sibling = streamForTest(fake.url, { random: () => 1 });
    await stream.ready();
    await sibling.stream.ready();
    stream.close();
    const attempts = counting.attempts();
    fake.dropConnections();
    await sibling.waitFor((e) => e.type === "reconnected");
    expect(counting.attempts()).toBe(attempts);
    expect(stream.connected).toBe(false);
  });

  it("ready() rejects with ComfyUnavailableError when nothing listens", async () => {
    const fake = await fakeForTest();
    await fake.kill();
    const { stream } = streamForTest(fake.url);
    await expect(stream.ready(100)).rejects.toMatchObject({ name: "ComfyUnavailableError" });
  });
});
