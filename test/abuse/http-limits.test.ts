import { apiFetch, testAdminKey } from "../support/credentials.ts";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const asClient = (address: string, init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string>), "x-forwarded-for": address } });
const upsert = (externalId: string) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ frontend: "style", externalId }) });

describe("rate limits (measured: 5,000 user upserts in 6.4 s, all 200)", () => {
  it("answers 429 rate_limited with Retry-After and RateLimit headers past the budget, and serves another client", async () => {
    const gateway = await startTestServer(sqlite, { RATE_OTHER_PER_MINUTE: "20", TRUSTED_PROXIES: "127.0.0.1" });
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 25; i++) {
      const answer = await apiFetch(`${gateway.url}/api/users`, asClient("10.0.0.1", upsert(`flood-${i}`)));
      statuses.push(answer.status);
      if (answer.status === 429) refused = answer;
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(refused?.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(refused?.headers.get("ratelimit")).toMatch(/^limit=20, remaining=0, reset=\d+$/);
    expect(refused?.headers.get("ratelimit-policy")).toBe("20;w=60");
    expect((await refused!.json()).error.code).toBe("rate_limited");
    const other = await apiFetch(`${gateway.url}/api/users`, asClient("10.0.0.2", upsert("honest")));
    expect(other.status).toBe(200);
  });

  it("keeps polls on their own budget, and a poll a second for a minute stays inside the default", async () => {
    const gateway = await startTestServer(sqlite, { RATE_OTHER_PER_MINUTE: "300", RATE_POLLS_PER_MINUTE: "600", RATE_SUBMITS_PER_MINUTE: "20" });
    const answers = await Promise.all(Array.from({ length: 60 }, () => apiFetch(`${gateway.url}/api/queue?frontend=style&taskId=nope`)));
    expect(answers.map((a) => a.status)).toEqual(Array(60).fill(404));
    expect(answers[59]?.headers.get("ratelimit")).toMatch(/^limit=600, remaining=540,/);
  });

  it("ignores X-Forwarded-For unless the peer is a trusted proxy", async () => {
    const gateway = await startTestServer(sqlite, { RATE_OTHER_PER_MINUTE: "3" });
    for (let i = 0; i < 3; i++) expect((await apiFetch(`${gateway.url}/api/workflows?frontend=style`, asClient(`10.0.1.${i}`))).status).toBe(200);
    expect((await apiFetch(`${gateway.url}/api/workflows?frontend=style`, asClient("10.0.1.9"))).status).toBe(429);
  });
});

describe("bodies (measured: 300 MB JSON parsed on /api/users, 60 MB multipart parsed on DELETE)", () => {
  it("refuses a JSON body over MAX_JSON_BYTES with 413 body_too_large before parsing it, and serves /healthz", async () => {
    const gateway = await startTestServer(sqlite, { MAX_JSON_BYTES: "16384" });
    const big = JSON.stringify({ frontend: "style", externalId: "x", nickname: "n".repeat(2 * 1024 * 1024) });
    const [answer, health] = await Promise.all([
      apiFetch(`${gateway.url}/api/users`, { method: "POST", headers: { "content-type": "application/json" }, body: big }),
      fetch(`${gateway.url}/healthz`),
    ]);
    expect(answer.status).toBe(413);
    expect((await answer.json()).error.code).toBe("body_too_large");
    expect(health.status).toBe(200);
  });

  it("never reads a body on DELETE: the frontend named only in a multipart body is not seen", async () => {
    const gateway = await startTestServer(sqlite, {});
    const form = new FormData();
    form.set("frontend", "style");
    form.set("padding", "p".repeat(1024 * 1024));
    const answer = await apiFetch(`${gateway.url}/api/tasks/abc`, { method: "DELETE", body: form });
    expect(answer.status).toBe(400);
    expect((await answer.json()).error.code).toBe("unknown_frontend");
    expect((await apiFetch(`${gateway.url}/api/tasks/abc?frontend=style`, { method: "DELETE" })).status).toBe(404);
  });

  it("refuses a submit with more multipart fields than MAX_FORM_FIELDS (measured: 1.5 M fields stalled /healthz 5.5 s)", async () => {
    const gateway = await startTestServer(sqlite, { MAX_FORM_FIELDS: "16" });
    const form = new FormData();
    for (let i = 0; i < 5_000; i++) form.append(`f${i}`, "x");
    const [answer, health] = await Promise.all([apiFetch(`${gateway.url}/api/tasks`, { method: "POST", body: form }), fetch(`${gateway.url}/healthz`)]);
    expect(answer.status).toBe(400);
    expect((await answer.json()).error.message).toMatch(/more than 16 fields/);
    expect(health.status).toBe(200);
  });

  it("drops a slow upload at REQUEST_TIMEOUT_MS (measured: held 315 s) while others are served", async () => {
    const gateway = await startTestServer(sqlite, { REQUEST_TIMEOUT_MS: "1000", HEADERS_TIMEOUT_MS: "1000" });
    const { port } = new URL(gateway.url);
    const socket = net.connect(Number(port), "127.0.0.1");
    const ended = new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (chunk) => (text += String(chunk)));
      socket.on("close", () => resolve(text));
    });
    // Headers promise 1 MB, then the body trickles: a byte every 100 ms.
    socket.write(`POST /api/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${testAdminKey}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1048576\r\n\r\n`);
    const trickle = setInterval(() => socket.write("x"), 100);
    try {
      expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
      const answer = await ended;
      expect(answer === "" || /^HTTP\/1\.1 408/.test(answer)).toBe(true);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });
});

describe("keep-alive connections", () => {
  it("keeps an idle connection open for KEEP_ALIVE_TIMEOUT_MS and says so, longer than clients' own idle timeouts", async () => {
    const gateway = await startTestServer(sqlite, {});
    const answer = await fetch(`${gateway.url}/healthz`);
    await answer.arrayBuffer();
    // undici (4 s), nginx and load balancers (60 s) close first, so none sends on a closing socket.
    expect(answer.headers.get("keep-alive")).toBe("timeout=65");
  });

  it("takes KEEP_ALIVE_TIMEOUT_MS from the environment", async () => {
    const gateway = await startTestServer(sqlite, { KEEP_ALIVE_TIMEOUT_MS: "90000" });
    const answer = await fetch(`${gateway.url}/healthz`);
    await answer.arrayBuffer();
    expect(answer.headers.get("keep-alive")).toBe("timeout=90");
  });
});
