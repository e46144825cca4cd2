import { apiFetch, defaultAuthHeaders } from "../support/credentials.ts";
import { describe, expect, it, onTestFinished } from "vitest";
import WebSocket from "ws";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

/** A raw client socket from `address` (through the trusted proxy), closed when the test ends. */
async function open(httpUrl: string, address: string, query = "frontend=style", authorization?: string) {
  const headers = { "x-forwarded-for": address, ...defaultAuthHeaders(httpUrl), ...(authorization ? { authorization } : {}) };
  const socket = new WebSocket(`${httpUrl.replace(/^http/, "ws")}/api/ws?${query}`, { headers });
  onTestFinished(() => socket.terminate());
  const messages: Array<Record<string, unknown>> = [];
  socket.on("message", (data, binary) => {
    if (!binary) messages.push(JSON.parse(String(data)) as Record<string, unknown>);
  });
  const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
  socket.on("error", () => undefined);
  await new Promise<void>((resolve) => socket.once("open", () => resolve()));
  return { socket, messages, closed };
}

const env = { TRUSTED_PROXIES: "127.0.0.1" };

describe("WebSocket limits", () => {
  it("refuses a user token's sockets past WS_MAX_PER_USER with 4429, from whichever address", async () => {
    const gateway = await startTestServer(sqlite, { ...env, WS_MAX_PER_USER: "1" });
    const style = gateway.deps.controllers.get("style")!;
    await style.ready();
    const user = await style.upsertUser({ externalId: "socket-cap" });
    const { token } = await gateway.deps.auth!.mintUserToken("style", user.id, 3600);
    const first = await open(gateway.url, "10.1.0.7", "frontend=style", `Bearer ${token}`);
    const second = await open(gateway.url, "10.1.0.8", "frontend=style", `Bearer ${token}`);
    expect(await second.closed).toBe(4429);
    expect(second.messages[0]).toMatchObject({ type: "error", code: "too_many_sockets" });
    expect(first.socket.readyState).toBe(WebSocket.OPEN);
  });

  it("closes a socket that sends a frame over WS_MAX_PAYLOAD with 1009 (measured: a 99 MB frame was parsed)", async () => {
    const gateway = await startTestServer(sqlite, { ...env, WS_MAX_PAYLOAD: "4096" });
    const client = await open(gateway.url, "10.1.0.1");
    client.socket.send("x".repeat(64 * 1024));
    expect(await client.closed).toBe(1009);
    expect((await apiFetch(`${gateway.url}/api/workflows?frontend=style`)).status).toBe(200);
  });

  it("refuses sockets past WS_MAX_PER_ADDRESS with 4429, and accepts another address (measured: 3,000 accepted)", async () => {
    const gateway = await startTestServer(sqlite, { ...env, WS_MAX_PER_ADDRESS: "3" });
    const kept = [];
    for (let i = 0; i < 3; i++) kept.push(await open(gateway.url, "10.1.0.2"));
    const fourth = await open(gateway.url, "10.1.0.2");
    expect(await fourth.closed).toBe(4429);
    expect(fourth.messages[0]).toMatchObject({ type: "error", code: "too_many_sockets" });
    const other = await open(gateway.url, "10.1.0.3");
    other.socket.send(JSON.stringify({ type: "subscribe", taskId: "nope" }));
    await expect.poll(() => other.messages.length).toBe(1);
    // Closing one frees its slot: the cap counts open sockets, so churn buys nothing more.
    kept[0]!.socket.close();
    await kept[0]!.closed;
    await expect.poll(async () => {
      const again = await open(gateway.url, "10.1.0.2");
      again.socket.send(JSON.stringify({ type: "subscribe", taskId: "nope" }));
      return Promise.race([again.closed.then(() => "closed"), new Promise((r) => again.socket.once("message", () => r("served")))]);
    }).toBe("served");
  });

  it("closes a socket flooding subscribe/unsubscribe past WS_MESSAGES_PER_SECOND, while the API answers (measured: 152,500 pairs in 8 s)", async () => {
    const gateway = await startTestServer(sqlite, { ...env, WS_MESSAGES_PER_SECOND: "10" });
    const flooder = await open(gateway.url, "10.1.0.4");
    for (let i = 0; i < 1_000 && flooder.socket.readyState === WebSocket.OPEN; i++) {
      flooder.socket.send(JSON.stringify({ type: i % 2 ? "unsubscribe" : "subscribe", taskId: `t${i}` }));
    }
    const [code, api] = await Promise.all([flooder.closed, apiFetch(`${gateway.url}/api/workflows?frontend=style`)]);
    expect(code).toBe(4400);
    expect(api.status).toBe(200);
    expect(flooder.messages.some((m) => m.code === "bad_message" && /messages per second/.test(String(m.message)))).toBe(true);
  });

  it("counts subscribes to unknown tasks as bad messages: the 5th closes (measured: they never counted)", async () => {
    const gateway = await startTestServer(sqlite, env);
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200); // the database is migrated
    const guesser = await open(gateway.url, "10.1.0.5");
    for (let i = 0; i < 5; i++) guesser.socket.send(JSON.stringify({ type: "subscribe", taskId: `guess-${i}` }));
    expect(await guesser.closed).toBe(4400);
    expect(guesser.messages.filter((m) => m.code === "not_found")).toHaveLength(5);
  });
});
