import { randomUUID } from "node:crypto";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { fakeForTest, queue, tracedWorkflows } from "../../test/fake-comfy/helpers.ts";
import { ComfyEventStream, type ComfyEventStreamOptions, type ComfyStreamEvent } from "./event-stream.ts";
import { countingWebSocket, finished } from "../../test/support/counting-websocket.ts";
import { defaultWebSocketImpl, type WebSocketConstructor } from "./websocket-impl.ts";

const workflows = tracedWorkflows();

/** A stream closed when the test finishes, recording its events; `until` waits for one. */
function streamForTest(baseUrl: string, extra: Partial<ComfyEventStreamOptions> = {}) {
  const stream = new ComfyEventStream({ baseUrl, clientId: `gw-${randomUUID()}`, minBackoffMs: 20, maxBackoffMs: 200, ...extra });
  const events: ComfyStreamEvent[] = [];
  stream.on((e) => events.push(e));
  onTestFinished(() => stream.close());
  const until = (predicate: (e: ComfyStreamEvent) => boolean) => expect.poll(() => events.some(predicate), { timeout: 20_000 }).toBe(true);
  return { stream, events, until };
}


describe("ComfyEventStream connections", () => {
  it("asks a server that supports it for previews with metadata, once per connection", async () => {
    const fake = await fakeForTest({ version: "current" });
    const { stream } = streamForTest(fake.url, { previewMetadata: () => Promise.resolve(true) });
    await stream.ready();
    await expect.poll(() => fake.counters.featureFlags).toBe(1);
    fake.dropConnections();
    await expect.poll(() => fake.counters.featureFlags).toBe(2);
    expect(fake.counters.wsConnections).toBe(2);
  });

  it.each([
    ["the server does not support them", () => Promise.resolve(false)],
    ["its capabilities cannot be learned", () => Promise.reject(new Error("ComfyUI /features: HTTP 500"))],
  ])("does not ask for previews with metadata when %s, and streams as usual", async (_, previewMetadata) => {
    const fake = await fakeForTest({ version: "current" });
    const { stream, until } = streamForTest(fake.url, { previewMetadata });
    await stream.ready();
    const id = await queue(fake, workflows.empty, stream.clientId);
    await until(finished(id));
    expect(fake.counters.featureFlags).toBe(0);
  });

  it("a listener that throws does not keep the event from the others", async () => {
    const fake = await fakeForTest();
    const stream = new ComfyEventStream({ baseUrl: fake.url, clientId: `gw-${randomUUID()}` });
    onTestFinished(() => stream.close());
    stream.on(() => {
      throw new Error("listener failed");
    });
    const seen: string[] = [];
    stream.on((e) => seen.push(e.type));
    await stream.ready();
    expect(seen[0]).toBe("connected");
  });

  it("start() and ready() again on a connected stream open no second socket", async () => {
    const fake = await fakeForTest();
    const { stream, until } = streamForTest(fake.url);
    stream.start();
    await stream.ready();
    stream.start();
    await stream.ready();
    // A run heard to its end: any second socket would have been counted by then.
    const id = await queue(fake, workflows.empty, stream.clientId);
    await until(finished(id));
    expect(fake.counters.wsConnections).toBe(1);
  });

  it("measures the time it was down on its clock", async () => {
    const fake = await fakeForTest();
    let clock = 0;
    const { stream, until, events } = streamForTest(fake.url, { now: () => (clock += 1_000) });
    await stream.ready();
    fake.dropConnections();
    await until((e) => e.type === "reconnected");
    expect(events.find((e) => e.type === "reconnected")).toEqual({ type: "reconnected", downMs: 1_000 });
  });

  it("abandons a connection that does not open within connectTimeoutMs and tries again", async () => {
    // Accepts TCP connections and never answers the upgrade.
    const held = new Set<Socket>();
    const silent = createServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => {
      for (const socket of held) socket.destroy();
      silent.close();
    });
    const counting = countingWebSocket();
    const { stream } = streamForTest(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, { WebSocketImpl: counting.WebSocketImpl, connectTimeoutMs: 50 });
    stream.start();
    await expect.poll(counting.attempts, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
    expect(stream.connected).toBe(false);
  });

  it("attempts that never opened are not reported as a lost connection", async () => {
    const fake = await fakeForTest();
    await fake.kill();
    const counting = countingWebSocket();
    const { stream, events } = streamForTest(fake.url, { WebSocketImpl: counting.WebSocketImpl });
    stream.start();
    await expect.poll(counting.attempts, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
    expect(events).toEqual([]);
  });

  it("a connection that opened is not cut when connectTimeoutMs passes", async () => {
    const fake = await fakeForTest({ nodeDelayMs: { EmptyImage: 300 } });
    const { stream, events, until } = streamForTest(fake.url, { connectTimeoutMs: 50 });
    await stream.ready();
    const id = await queue(fake, workflows.empty, stream.clientId);
    await until(finished(id));
    expect(events.filter((e) => e.type === "disconnected")).toEqual([]);
    expect(fake.counters.wsConnections).toBe(1);
  });

  it("after close() no event reaches a listener and start() does nothing", async () => {
    const fake = await fakeForTest();
    const counting = countingWebSocket();
    const { stream, events } = streamForTest(fake.url, { WebSocketImpl: counting.WebSocketImpl });
    stream.close();
    stream.start();
    await expect(stream.ready(100)).rejects.toMatchObject({ name: "ComfyUnavailableError", message: "ComfyUI event stream not connected within 100 ms" });
    expect(counting.attempts()).toBe(0);
    expect(events).toEqual([]);
  });
  it("a listener that unsubscribed hears nothing more, while the others do", async () => {
    const fake = await fakeForTest();
    const { stream, until } = streamForTest(fake.url);
    const heard: string[] = [];
    const off = stream.on((e) => heard.push(e.type));
    await stream.ready();
    off();
    const before = [...heard];
    fake.dropConnections();
    await until((e) => e.type === "reconnected");
    expect(before[0]).toBe("connected");
    expect(heard).toEqual(before);
  });

  it("reports itself not connected from the moment the connection is lost until it is back", async () => {
    const fake = await fakeForTest();
    const { stream, until } = streamForTest(fake.url);
    const seen: Array<[string, boolean]> = [];
    stream.on((e) => seen.push([e.type, stream.connected]));
    await stream.ready();
    fake.dropConnections();
    await until((e) => e.type === "reconnected");
    expect(seen.filter(([type]) => type !== "status")).toEqual([
      ["connected", true],
      ["disconnected", false],
      ["reconnected", true],
    ]);
  });

  it("a socket the runtime refuses to create is tried again, and the stream connects", async () => {
    const fake = await fakeForTest();
    // The runtime's WebSocket, refusing the first socket as one out of descriptors would.
    const Base = defaultWebSocketImpl();
    let attempts = 0;
    const RefusingOnce = function (url: string) {
      attempts += 1;
      if (attempts === 1) throw new Error("too many open files");
      return new Base(url);
    } as unknown as WebSocketConstructor;
    const { stream } = streamForTest(fake.url, { WebSocketImpl: RefusingOnce });
    await stream.ready();
    expect(attempts).toBe(2);
    expect(stream.connected).toBe(true);
  });
});
