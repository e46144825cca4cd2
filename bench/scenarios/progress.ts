import type { WsClientsConfig } from "../drivers/ws-clients.ts";
import { createUser, submitTask } from "../lib/api.ts";
import { startDriver } from "../lib/driver.ts";
import type { Fakes } from "../lib/fakes.ts";
import { benchAuth, type Gateway } from "../lib/gateway.ts";
import { smallPng } from "../lib/images.ts";
import { summarize } from "../lib/stats.ts";
import type { Metric } from "../lib/table.ts";
import { metricsOf, withStack, type Scenario, type ScenarioContext } from "./scenario.ts";

const title = "3 progress relay";
const audiences = [1, 100, 1_000];
/** KSampler reports one `progress` per step: 100 steps of 20 ms = 50 Hz for 2 s. */
const steps = 100;

/**
 * One img2img job whose KSampler sends 100 progress messages at 50 Hz, watched by 1, 100 and
 * 1,000 WebSocket clients that subscribed while the job was still queued (the fakes are paused
 * until every client has its `subscribed`). Latency runs from the fake writing each `progress`
 * (timestamped by the fake's onSend hook) to a client receiving the gateway's `progress` with
 * the same `value`; both clocks are performance.timeOrigin + performance.now() on one machine.
 */
export const progressScenario: Scenario = {
  key: "progress",
  title,
  run: (ctx) =>
    withStack(ctx, title, { msPerStep: 20, stepsPerNode: { KSampler: steps }, paused: true }, async ({ fakes, gateway }) => {
      const userId = await createUser(gateway.url, `bench-progress-${Date.now()}`);
      const metrics: Metric[] = [];
      for (const clients of audiences) {
        ctx.log(`  ${clients} clients`);
        metrics.push(...(await relayOnce(ctx, fakes, gateway, userId, clients)));
      }
      return metrics;
    }),
};

async function relayOnce(ctx: ScenarioContext, fakes: Fakes, gateway: Gateway, userId: string, clients: number): Promise<Metric[]> {
  const taskId = await submitTask(gateway.url, userId, "img2img", smallPng(), { prompt: "benchmark" });
  const config: WsClientsConfig = {
    url: `${gateway.url.replace("http", "ws")}/api/ws?frontend=style&taskId=${taskId}`,
    headers: benchAuth,
    clients,
    mode: "progress",
    timeoutMs: 60_000,
  };
  const driver = startDriver("ws-clients", config);
  try {
    const ready = await driver.next("ready", 120_000);
    fakes.progressSent.clear();
    fakes.setOptions({ paused: false });
    const result = await driver.next("result", 120_000);
    fakes.setOptions({ paused: true });
    const sent = new Map<number, number>();
    for (const [key, at] of fakes.progressSent) sent.set(Number(key.split(":").at(-1)), at);
    const received = result.received as Array<Record<string, number>>;
    const latencies: number[] = [];
    let lost = 0;
    for (const perClient of received) {
      for (let value = 1; value <= steps; value++) {
        const at = perClient[value];
        const from = sent.get(value);
        if (at === undefined || from === undefined) lost += 1;
        else latencies.push(at - from);
      }
    }
    const outcomes = result.outcomes as Record<string, number>;
    if ((outcomes.succeeded ?? 0) !== clients || sent.size !== steps) {
      ctx.note(`${title} ${clients} clients on ${ctx.runtime}: fake sent ${sent.size} progress messages; endings seen by clients ${JSON.stringify(outcomes)}; close codes ${JSON.stringify(result.closeCodes)}`);
    }
    const s = summarize(latencies);
    const m = metricsOf(title);
    return [
      m(`${clients} clients: latency p50`, s.p50, "ms"),
      m(`${clients} clients: latency p99`, s.p99, "ms"),
      m(`${clients} clients: latency max`, s.max, "ms"),
      m(`${clients} clients: lost of ${(clients * steps).toLocaleString("en-US")}`, lost, "messages"),
      m(`${clients} clients: connect + subscribe`, Number(ready.connectMs), "ms"),
    ];
  } finally {
    fakes.setOptions({ paused: true });
    await driver.stop();
  }
}
