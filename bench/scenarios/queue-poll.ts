import { createUser, submitTask } from "../lib/api.ts";
import { benchAuth } from "../lib/gateway.ts";
import { smallPng } from "../lib/images.ts";
import { measurePolling } from "../lib/load.ts";
import { sleep } from "../lib/processes.ts";
import { metricsOf, withStack, type Scenario } from "./scenario.ts";

const title = "2 queue poll fan-in";
const clients = 1_000;
/** Jobs kept on the fakes' queues: one running and two waiting on each. */
const jobs = 6;

/**
 * 1,000 clients each polling GET /api/queue once a second. The gateway should answer all of them
 * from one upstream /queue read per server per QUEUE_READ_WINDOW_MS (500 ms): the upstream rate
 * must not grow with the number of clients. ImageInvert takes a minute, so the queues stay full.
 */
export const queuePollScenario: Scenario = {
  key: "poll",
  title,
  run: (ctx) =>
    withStack(ctx, title, { nodeDelayMs: { ImageInvert: 60_000 } }, async ({ fakes, gateway }) => {
      const durationSec = ctx.quick ? 10 : 30;
      const warmupSec = ctx.quick ? 5 : 10;
      const userId = await createUser(gateway.url, `bench-poll-${Date.now()}`);
      const png = smallPng();
      const taskIds: string[] = [];
      for (let i = 0; i < jobs; i++) taskIds.push(await submitTask(gateway.url, userId, "invert", png));

      // Upstream reads without pollers (health checks, reconciling): the floor the load adds to.
      const idleSec = 4;
      const idleBefore = fakes.list.map((f) => f.counters.queueReads);
      await sleep(idleSec * 1000);
      const idleRates = fakes.list.map((f, i) => (f.counters.queueReads - idleBefore[i]!) / idleSec);

      ctx.log(`  ${clients} clients × 1 poll/s for ${warmupSec} s warm-up + ${durationSec} s`);
      const run = await measurePolling(
        {
          url: gateway.url,
          paths: taskIds.map((id) => `/api/queue?frontend=style&taskId=${id}`),
          clients,
          intervalMs: 1_000,
          headers: benchAuth,
          warmupSec,
          durationSec,
        },
        gateway.pid,
        () => fakes.list.map((f) => f.counters.queueReads),
      );
      const rates = run.probeDelta.map((reads) => reads / (run.elapsedMs / 1000));
      const errors = run.errors + run.timeouts + run.non2xx;
      if (errors > 0) ctx.note(`${title} on ${ctx.runtime}: ${errors} errors; status codes ${JSON.stringify(run.statusCodes)}, timeouts ${run.timeouts}`);
      const m = metricsOf(title);
      return [
        m("answered", run.reqPerSec, "req/s"),
        m("latency p50", run.latency.p50, "ms"),
        m("latency p99", run.latency.p99, "ms"),
        m("errors", errors, "count"),
        m(`warm-up (first ${warmupSec} s: connecting, cold code): worst answer`, run.warmupMaxMs, "ms"),
        ...rates.map((rate, i) => m(`upstream /queue reads, server ${"ab"[i]}`, rate, "per s")),
        ...idleRates.map((rate, i) => m(`same without pollers, server ${"ab"[i]}`, rate, "per s")),
        m("gateway CPU", run.serverCores * 100, "% of a core"),
      ];
    }),
};
