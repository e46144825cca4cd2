import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createUser } from "../lib/api.ts";
import { benchAuth } from "../lib/gateway.ts";
import { startBaseline } from "../lib/baseline.ts";
import { largePng } from "../lib/images.ts";
import { measureLoad, type MeasuredLoad } from "../lib/load.ts";
import { multipartBody } from "../../src/comfy/multipart-body.ts";
import { fmt } from "../lib/stats.ts";
import type { Metric } from "../lib/table.ts";
import { metricsOf, withStack, type Scenario, type ScenarioContext } from "./scenario.ts";

const title = "1 submit 1 MB PNG";
const levels = [1, 16, 64];
const stages = ["parse", "check", "user", "pick", "upload", "prompt", "store", "db", "total"];

/**
 * POST /api/tasks with a 1 MB PNG at fixed concurrency, against the gateway and then against a bare
 * Hono route that only parses the same body: the difference is what the gateway adds.
 * The fakes are paused, so no job runs: their CPU (decoding 1 MB PNGs) would otherwise compete with
 * the gateway on a 2-core box, and the submit path ends once the prompt is queued anyway.
 */
export const submitScenario: Scenario = {
  key: "submit",
  title,
  run: (ctx) =>
    withStack(ctx, title, { paused: true }, async ({ gateway }) => {
      const durationSec = ctx.quick ? 2 : 10;
      const userId = await createUser(gateway.url, `bench-submit-${Date.now()}`);
      const dir = mkdtempSync(path.join(tmpdir(), "aipack-bench-body-"));
      try {
        const { body, contentType } = multipartBody({ frontend: "style", userId, workflow: "invert" }, { name: "image", filename: "bench.png", contentType: "image/png", bytes: largePng() });
        const bodyFile = path.join(dir, "body.bin");
        writeFileSync(bodyFile, body);
        const base = { method: "POST" as const, paths: ["/api/tasks"], headers: { "content-type": contentType, ...benchAuth }, bodyFile };
        const runLevels = async (url: string, pid: number, serverTiming: boolean) => {
          // A short unmeasured run first: both runtimes JIT-compile the hot path before it counts.
          await measureLoad({ ...base, url, connections: 4, durationSec: ctx.quick ? 1 : 2 }, pid);
          const out = new Map<number, MeasuredLoad>();
          for (const connections of levels) {
            ctx.log(`  ${serverTiming ? "gateway" : "baseline"} c=${connections} for ${durationSec} s`);
            out.set(connections, await measureLoad({ ...base, url, connections, durationSec, serverTiming }, pid));
          }
          return out;
        };
        const gatewayRuns = await runLevels(gateway.url, gateway.pid, true);
        const baseline = await startBaseline(ctx.runtime);
        let baselineRuns: Map<number, MeasuredLoad>;
        try {
          baselineRuns = await runLevels(baseline.url, baseline.pid, false);
        } finally {
          await baseline.stop();
        }
        return [...levels.flatMap((c) => figures(ctx, c, gatewayRuns.get(c)!, baselineRuns.get(c)!)), ...levels.flatMap((c) => stageFigures(c, gatewayRuns.get(c)!))];
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
};

function figures(ctx: ScenarioContext, c: number, run: MeasuredLoad, baseline: MeasuredLoad): Metric[] {
  const m = metricsOf(title);
  const errors = run.errors + run.timeouts + run.non2xx;
  if (errors > 0) ctx.note(`${title} c=${c} on ${ctx.runtime}: ${errors} errors; status codes ${JSON.stringify(run.statusCodes)}, connection errors ${run.errors}, timeouts ${run.timeouts}`);
  return [
    m(`c=${c} throughput`, run.reqPerSec, "req/s"),
    m(`c=${c} latency p50`, run.latency.p50, "ms"),
    m(`c=${c} latency p99`, run.latency.p99, "ms"),
    m(`c=${c} errors`, errors, "count"),
    m(`c=${c} baseline throughput`, baseline.reqPerSec, "req/s"),
    m(`c=${c} baseline latency p50`, baseline.latency.p50, "ms"),
    m(`c=${c} gateway / baseline throughput`, run.reqPerSec / baseline.reqPerSec, "ratio"),
    m(`c=${c} gateway CPU per request`, run.serverCpuPerRequest, "ms"),
    m(`c=${c} baseline CPU per request`, baseline.serverCpuPerRequest, "ms"),
    m(`c=${c} fakes CPU per request`, run.fakesCpuPerRequest, "ms"),
  ];
}

/** Server-Timing per stage: mean / p50, plus what no stage accounts for (middleware, validation). */
function stageFigures(c: number, run: MeasuredLoad): Metric[] {
  const m = metricsOf(title, "Submit path stages (Server-Timing, ms: mean / p50)");
  const named = stages.filter((s) => run.stages[s]).map((s) => m(`c=${c} ${s}`, run.stages[s]!.mean, "ms", `${fmt(run.stages[s]!.mean)} / ${fmt(run.stages[s]!.p50)}`));
  const total = run.stages.total?.mean ?? Number.NaN;
  const summed = stages.filter((s) => s !== "total").reduce((sum, s) => sum + (run.stages[s]?.mean ?? 0), 0);
  return [...named, m(`c=${c} total − stages`, total - summed, "ms")];
}
