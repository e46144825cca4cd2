import { describe, expect, it } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";
import { isFinalMessage, openProgressClient } from "../support/ws-client.ts";
import { settled, submitMany } from "../faults/fault-support.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const token = "metrics-token-0123456789";

async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
}

describe("task and WebSocket metrics", () => {
  it("count a task submitted and ended by frontend, workflow and outcome, with its wait and run", async () => {
    const fake = await fakeForTest();
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, METRICS_TOKEN: token });
    const { ids } = await submitMany(gw.url, 1);
    await settled(gw.url, "style", ids);
    await expect.poll(() => scrape(gw.url)).toContain('aipack_tasks_ended_total{frontend="style",workflow="invert",outcome="succeeded"} 1');
    const text = await scrape(gw.url);
    expect(text).toContain('aipack_tasks_submitted_total{frontend="style",workflow="invert"} 1');
    expect(text).toContain('aipack_task_wait_seconds_count{frontend="style",workflow="invert"} 1');
    expect(text).toContain('aipack_task_run_seconds_count{frontend="style",workflow="invert",outcome="succeeded"} 1');
    expect(text).toContain('aipack_comfy_server_up{server="gpu1"} 1');
  });

  it("count a task submitted with early binding by frontend and workflow", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, METRICS_TOKEN: token, SCHEDULING: "early" });
    await submitMany(gw.url, 1);
    expect(await scrape(gw.url)).toContain('aipack_tasks_submitted_total{frontend="style",workflow="invert"} 1');
  });

  it("count the open progress sockets and the messages relayed to them", async () => {
    const fake = await fakeForTest({ paused: true });
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, METRICS_TOKEN: token });
    const { ids } = await submitMany(gw.url, 1);
    const client = await openProgressClient(`${gw.url.replace(/^http/, "ws")}/api/ws?frontend=style&taskId=${ids[0]}`);
    await client.waitFor((message) => message.type === "subscribed");
    expect(await scrape(gw.url)).toContain("aipack_ws_connections 1");
    fake.setOptions({ paused: false });
    await client.waitFor(isFinalMessage);
    expect(await scrape(gw.url)).toMatch(/aipack_ws_messages_relayed_total\{kind="event"\} [2-9]/);
  });
});
