import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";
import { openProgressClient } from "../support/ws-client.ts";

const sqlite = dialectCases[0]!;

// A token's lifetime bounds the socket opened with it. The token below expires 10 s after it is
// minted: room for the upgrade on a busy machine; the test then waits on the close itself.
describe("a WebSocket opened with a user token", () => {
  it("is closed with 4401 and an unauthorized error when the token expires", async () => {
    const fake = await fakeForTest();
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: fake.url });
    const style = gateway.deps.controllers.get("style")!;
    await style.ready();
    const user = await style.upsertUser({ externalId: "expiring" });
    const task = await style.createTask({ userId: user.id, workflow: "invert", params: {}, status: "queued", outputUrls: [] });
    const { token, expiresAt } = await gateway.deps.auth!.mintUserToken("style", user.id, 60, new Date(Date.now() - 50_000));
    const client = await openProgressClient(`${gateway.url.replace(/^http/, "ws")}/api/ws?frontend=style&taskId=${task.id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await client.waitFor((message) => message.type === "subscribed");

    const closed = await client.closed;
    expect(closed).toEqual({ code: 4401, reason: "token expired" });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.getTime());
    expect(client.messages.at(-1)).toMatchObject({ type: "error", code: "unauthorized" });
  });
});
