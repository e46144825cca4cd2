import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createUser } from "../lib/api.ts";
import { startDriver } from "../lib/driver.ts";
import { benchAuth, startGateway, type Gateway } from "../lib/gateway.ts";
import { smallPng } from "../lib/images.ts";
import { measureLoad } from "../lib/load.ts";
import { multipartBody } from "../../src/comfy/multipart-body.ts";
import { rssMiB, sleep } from "../lib/processes.ts";
import type { Metric } from "../lib/table.ts";
import { metricsOf, withStack, type Scenario } from "./scenario.ts";

const title = "4 memory (RSS)";
const idleClients = 1_000;
/** Jobs run in equal batches with a reading after each: a leak shows as a slope, a warm heap as a plateau. */
const batches = 5;

/**
 * The gateway's resident memory: idle, holding 1,000 idle WebSockets, after each fifth of N finished
 * jobs (zero execution time, a 3 KB PNG, 8 submitting connections) and 5 s later. What stays after
 * the jobs are over is what the gateway keeps per job (or leaks).
 */
export const memoryScenario: Scenario = {
  key: "memory",
  title,
  run: (ctx) =>
    withStack(ctx, title, {}, async ({ fakes, gateway }) => {
      const jobs = ctx.quick ? 1_000 : 10_000;
      const m = metricsOf(title);
      await sleep(2_000);
      const idle = rssMiB(gateway.pid);
      // What running the sources through tsx costs next to the compiled dist/ production runs.
      const idleTsx = ctx.runtime === "node" ? [m("idle, sources through tsx", await idleRss({ runtime: "node", db: ctx.db, comfyUrls: fakes.urls, launcher: "tsx" }), "MiB")] : [];

      const driver = startDriver("ws-clients", { url: `${gateway.url.replace("http", "ws")}/api/ws?frontend=style`, clients: idleClients, mode: "idle", timeoutMs: 60_000, headers: benchAuth });
      let withSockets: number;
      try {
        await driver.next("ready", 120_000);
        await sleep(1_000);
        withSockets = rssMiB(gateway.pid);
      } finally {
        await driver.stop();
      }

      ctx.log(`  ${jobs.toLocaleString("en-US")} jobs in ${batches} batches`);
      const userId = await createUser(gateway.url, `bench-memory-${Date.now()}`);
      const dir = mkdtempSync(path.join(tmpdir(), "aipack-bench-body-"));
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, safeRss(gateway.pid))), 250);
      try {
        const { body, contentType } = multipartBody({ frontend: "style", userId, workflow: "invert" }, { name: "image", filename: "small.png", contentType: "image/png", bytes: smallPng() });
        const bodyFile = path.join(dir, "body.bin");
        writeFileSync(bodyFile, body);
        const perBatch = jobs / batches;
        const afterBatches: Metric[] = [];
        let accepted = 0;
        let busyMs = 0;
        for (let batch = 1; batch <= batches; batch++) {
          const viewsBefore = fakes.total("views");
          const run = await measureLoad({ url: gateway.url, method: "POST", paths: ["/api/tasks"], headers: { "content-type": contentType, ...benchAuth }, bodyFile, connections: 8, amount: perBatch }, gateway.pid);
          const ok = run.statusCodes["202"] ?? 0;
          if (ok !== perBatch) ctx.note(`${title} on ${ctx.runtime}: batch ${batch}: ${ok} of ${perBatch} submits accepted; status codes ${JSON.stringify(run.statusCodes)}`);
          // Every finished job fetched its output once from a fake; then its row is updated.
          busyMs += run.elapsedMs + (await waitFinished(gateway, userId, () => fakes.total("views") - viewsBefore, ok));
          accepted += ok;
          afterBatches.push(m(`after ${accepted.toLocaleString("en-US")} jobs finished`, rssMiB(gateway.pid), "MiB"));
        }
        await sleep(5_000);
        const later = rssMiB(gateway.pid);
        return [
          m("idle (Node: dist/, Bun: sources)", idle, "MiB"),
          ...idleTsx,
          m(`${idleClients.toLocaleString("en-US")} idle WebSockets`, withSockets, "MiB"),
          ...afterBatches,
          m("same + 5 s", later, "MiB"),
          m(`peak while running the jobs`, peak, "MiB"),
          m("jobs submitted and finished", accepted / (busyMs / 1000), "jobs/s"),
        ];
      } finally {
        clearInterval(sampler);
        rmSync(dir, { recursive: true, force: true });
      }
    }),
};

/** Waits until `done()` reaches `wanted` and the newest rows are final; returns the ms it waited. */
async function waitFinished(gateway: Gateway, userId: string, done: () => number, wanted: number): Promise<number> {
  const started = performance.now();
  const deadline = Date.now() + 300_000;
  while (done() < wanted) {
    if (Date.now() > deadline) throw new Error(`only ${done()} of ${wanted} jobs finished in 300 s`);
    await sleep(100);
  }
  for (;;) {
    const res = await fetch(`${gateway.url}/api/tasks?frontend=style&userId=${userId}&limit=100`, { headers: benchAuth });
    const body = (await res.json()) as { items?: Array<{ status: string }> };
    if (body.items?.every((p) => p.status === "succeeded" || p.status === "failed")) break;
    if (Date.now() > deadline) throw new Error("the newest jobs never reached a final status");
    await sleep(100);
  }
  return performance.now() - started;
}

/** Idle RSS of a second gateway started with other options, 2 s after it is ready. */
async function idleRss(options: Parameters<typeof startGateway>[0]): Promise<number> {
  const other = await startGateway(options);
  try {
    await sleep(2_000);
    return rssMiB(other.pid);
  } finally {
    await other.stop();
  }
}

function safeRss(pid: number): number {
  try {
    return rssMiB(pid);
  } catch {
    return 0;
  }
}
