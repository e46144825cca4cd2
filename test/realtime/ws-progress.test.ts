import { describe, expect, it } from "vitest";
import { apiFetch } from "../support/credentials.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, pollQueue, submitTask } from "../support/task-client.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";
import { startTestServer } from "../support/test-server.ts";
import { expectMonotonicProgressAndSameResult, expectProductOwnerFlow, txt2imgParams } from "../support/watch-flow.ts";
import { isFinalMessage, openProgressClient } from "../support/ws-client.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const wsUrl = (httpUrl: string, query: string) => `${httpUrl.replace(/^http/, "ws")}/api/ws?${query}`;

async function setup(fakeOptions: Parameters<typeof fakeForTest>[0] = {}) {
  const fake = await fakeForTest({ msPerStep: 15, ...fakeOptions });
  const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `gpu=${fake.url}` });
  const userId = await createUser(gateway.url, "logo", "watcher");
  const submit = async (steps: number) => {
    const answer = await submitTask(gateway.url, { frontend: "logo", userId, workflow: "txt2img", params: txt2imgParams(steps) });
    expect(answer.status).toBe(202);
    return (await answer.json()).task.id as string;
  };
  return { fake, gateway, submit };
}

describe("progress over WebSocket (Node, in process)", () => {
  it("the product owner's flow: ws open, poll until running, then progress and the result", async () => {
    // Steps long enough that a poll lands while it runs, even through the 500 ms queue-read window.
    const { fake, gateway, submit } = await setup({ msPerStep: 80, paused: true });
    await expectProductOwnerFlow(gateway.url, submit, fake);
  });

  it("100 clients of one task all get monotonic progress and the same URLs", async () => {
    // Paused until all 100 are subscribed: however long opening them takes, none misses the run.
    const { fake, gateway, submit } = await setup({ paused: true });
    const blocker = await submit(15);
    const taskId = await submit(20);
    const clients = await Promise.all(Array.from({ length: 100 }, () => openProgressClient(wsUrl(gateway.url, `frontend=logo&taskId=${taskId}`))));
    await Promise.all(clients.map((client) => client.waitFor((m) => m.type === "subscribed")));
    fake.setOptions({ paused: false });
    await expectMonotonicProgressAndSameResult(clients);
    expect(gateway.deps.hub.size).toBe(0);
  });

  it("a late joiner gets the result at once; a mid-run joiner gets the current progress first", async () => {
    const { gateway, submit } = await setup({ msPerStep: 30 });
    const taskId = await submit(30);
    await pollQueue(gateway.url, "logo", taskId, (a) => a.running, 10);
    const early = await openProgressClient(wsUrl(gateway.url, `frontend=logo&taskId=${taskId}`));
    await early.waitFor((m) => m.type === "progress" && (m.value as number) >= 5);
    const midRun = await openProgressClient(wsUrl(gateway.url, `frontend=logo&taskId=${taskId}`));
    const firstProgress = await midRun.waitFor((m) => m.type === "progress");
    expect(firstProgress.value as number).toBeGreaterThanOrEqual(5);
    const { task: running } = await (await apiFetch(`${gateway.url}/api/tasks/${taskId}?frontend=logo`)).json();
    expect(running).toMatchObject({ status: "running", progress: { max: 30, percent: expect.any(Number) } });
    expect(running.progress.value).toBeGreaterThanOrEqual(5);
    expect(midRun.messages.findIndex((m) => m.type === "progress")).toBeLessThan(midRun.messages.findIndex((m) => m.type === "subscribed"));
    const final = await early.waitFor(isFinalMessage);

    const late = await openProgressClient(wsUrl(gateway.url, `frontend=logo&taskId=${taskId}`));
    const lateFinal = await late.waitFor(isFinalMessage);
    expect(late.messages).toHaveLength(1);
    expect(lateFinal).toEqual(final);
  });

  it("one socket follows several tasks with subscribe / unsubscribe", async () => {
    const { gateway, submit } = await setup();
    const first = await submit(5);
    const second = await submit(5);
    const client = await openProgressClient(wsUrl(gateway.url, "frontend=logo"));
    client.send({ type: "subscribe", taskId: first });
    client.send({ type: "subscribe", taskId: second });
    client.send({ type: "unsubscribe", taskId: second });
    client.send({ type: "subscribe" });
    const bad = await client.waitFor((m) => m.type === "error");
    expect(bad).toMatchObject({ code: "bad_message" });
    await client.waitFor((m) => m.type === "succeeded" && m.taskId === first);
    await pollQueue(gateway.url, "logo", second, (a) => a.status === "succeeded", 20);
    // Subscribing again gets the end at once; one sent to the earlier subscription would be ahead of it.
    client.send({ type: "subscribe", taskId: second });
    await client.waitFor((m) => m.type === "succeeded" && m.taskId === second);
    expect(client.messages.filter((m) => m.taskId === second && m.type === "succeeded")).toHaveLength(1);
  });

  it("an unknown frontend or task gets an error message and a close code", async () => {
    const { gateway } = await setup();
    const badFrontend = await openProgressClient(wsUrl(gateway.url, "frontend=poster&taskId=x"));
    expect(await badFrontend.closed).toMatchObject({ code: 4400 });
    expect(badFrontend.messages[0]).toMatchObject({ type: "error", code: "unknown_frontend", message: expect.stringContaining("style, logo") });
    const badTask = await openProgressClient(wsUrl(gateway.url, "frontend=logo&taskId=nope"));
    expect(await badTask.closed).toMatchObject({ code: 4404 });
    expect(badTask.messages[0]).toMatchObject({ type: "error", code: "not_found" });
  });

  it("a frontend too long for a close reason is refused cleanly (4400, ASCII reason)", async () => {
    const { gateway } = await setup();
    // 60 three-byte characters: past the schema's bound; 40 of them: an unknown frontend whose
    // name alone would not fit in the 123 bytes a close reason may hold.
    for (const [frontend, code] of [["前".repeat(60), "bad_message"], ["前".repeat(40), "unknown_frontend"]] as const) {
      const client = await openProgressClient(wsUrl(gateway.url, `frontend=${encodeURIComponent(frontend)}&taskId=x`));
      expect(await client.closed).toEqual({ code: 4400, reason: "bad request" });
      expect(client.messages).toEqual([{ type: "error", code, message: expect.any(String) }]);
    }
    await expect.poll(() => gateway.deps.sockets.size).toBe(0);
  });

  it("repeated bad messages close the socket (4400)", async () => {
    const { gateway } = await setup();
    const client = await openProgressClient(wsUrl(gateway.url, "frontend=logo"));
    for (let i = 0; i < 5; i++) client.socket.send(i % 2 ? "not json" : Buffer.from([1, 2, 3]));
    expect(await client.closed).toEqual({ code: 4400, reason: "bad request" });
    expect(client.messages.map((m) => m.code)).toEqual(Array.from({ length: 5 }, () => "bad_message"));
  });

  it("a socket that opens once shutdown began is closed with 1001 at once", async () => {
    const { gateway } = await setup();
    const before = await openProgressClient(wsUrl(gateway.url, "frontend=logo"));
    gateway.deps.sockets.closeAll(1001, "server shutting down");
    expect((await before.closed).code).toBe(1001);
    const late = await openProgressClient(wsUrl(gateway.url, "frontend=logo&taskId=x"));
    expect(await late.closed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(late.messages).toEqual([]);
    await expect.poll(() => gateway.deps.sockets.size).toBe(0);
  });

  it("a frontend database that is down: `unavailable` and 1011, not `not_found`", async () => {
    const fake = await fakeForTest();
    const down = await startTcpProxy({ host: "127.0.0.1", port: 9 });
    down.cut();
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `gpu=${fake.url}`, DATABASE_URL_LOGO: `mysql://root@127.0.0.1:${down.port}/aipack_logo_down` });
    const client = await openProgressClient(wsUrl(gateway.url, "frontend=logo&taskId=some-task"));
    expect(await client.closed).toEqual({ code: 1011, reason: "database unavailable" });
    expect(client.messages).toEqual([{ type: "error", code: "unavailable", taskId: "some-task", message: expect.stringContaining("logo") }]);
  });

  it("the upstream socket cut mid-run: the gateway reconnects and clients still get the result", async () => {
    const { fake, gateway, submit } = await setup({ msPerStep: 20 });
    const taskId = await submit(40);
    const client = await openProgressClient(wsUrl(gateway.url, `frontend=logo&taskId=${taskId}`));
    await client.waitFor((m) => m.type === "progress" && (m.value as number) >= 3);
    fake.dropConnections();
    const final = await client.waitFor(isFinalMessage, 20_000);
    expect(final).toMatchObject({ type: "succeeded", outputUrls: [expect.any(String)] });
  });

  it("previews are opt-in binary frames that name their format and task", async () => {
    const { gateway, submit } = await setup({ previews: true });
    const taskId = await submit(4);
    const withPreviews = await openProgressClient(wsUrl(gateway.url, `frontend=logo&taskId=${taskId}&previews=1`));
    const without = await openProgressClient(wsUrl(gateway.url, `frontend=logo&taskId=${taskId}`));
    await withPreviews.waitFor(isFinalMessage);
    await without.waitFor(isFinalMessage);
    expect(without.binary).toHaveLength(0);
    expect(withPreviews.binary.length).toBeGreaterThan(0);
    const frame = withPreviews.binary[0]!;
    expect([1, 2]).toContain(frame[0]);
    const idLength = frame[1]!;
    expect(frame.subarray(2, 2 + idLength).toString("ascii")).toBe(taskId);
    const image = frame.subarray(2 + idLength);
    expect(image.length).toBeGreaterThan(8);
  });

  it("a client that never reads does not hold up the others, and its backlog stays bounded", async () => {
    // Paused until every client is subscribed: a reader that joined mid-run would rightly start
    // from the latest progress, and this test counts every step. Each preview carries 512 KB, so
    // the stalled client's 25 MB outgrow the kernel's socket buffers and the gateway sees a backlog.
    const { fake, gateway, submit } = await setup({ previews: true, previewPaddingBytes: 512 * 1024, msPerStep: 5, paused: true });
    const taskId = await submit(50);
    const stalled = await openProgressClient(wsUrl(gateway.url, `frontend=logo&taskId=${taskId}&previews=1`));
    await stalled.waitFor((m) => m.type === "subscribed");
    const stalledSocket = (stalled.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    stalledSocket.pause();
    const readers = await Promise.all(Array.from({ length: 5 }, () => openProgressClient(wsUrl(gateway.url, `frontend=logo&taskId=${taskId}`))));
    await Promise.all(readers.map((reader) => reader.waitFor((m) => m.type === "subscribed")));
    fake.setOptions({ paused: false });
    await expectMonotonicProgressAndSameResult(readers);
    for (const reader of readers) {
      expect(reader.messages.filter((m) => m.type === "progress").map((m) => m.value)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    }
    // Read again: the stalled client was held to its bound (previews dropped, progress coalesced)
    // and still gets the result.
    stalledSocket.resume();
    const [final] = await expectMonotonicProgressAndSameResult([stalled]);
    expect(final).toEqual(readers[0]!.messages.at(-1));
    expect(stalled.binary.length).toBeGreaterThan(0);
    expect(stalled.binary.length).toBeLessThan(50);
  });
});
