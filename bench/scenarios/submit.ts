import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { createUser } from "../lib/api.ts";
import { startBaseline } from "../lib/baseline.ts";
import { startFakes } from "../lib/fakes.ts";
import { benchAuth, dropDatabases, mysqlUrl, startGateway, type Gateway, type Runtime } from "../lib/gateway.ts";
import { largePng } from "../lib/images.ts";
import { measureFloor, measureLoad, type MeasuredLoad } from "../lib/load.ts";
import { ensurePeerInstalled, startPeer } from "../lib/peer.ts";
import { multipartBody } from "../../src/comfy/multipart-body.ts";
import { fmt } from "../lib/stats.ts";
import type { Scenario, ScenarioContext } from "./scenario.ts";

const title = "1 submit 1 MB PNG";
const stages = ["parse", "check", "user", "pick", "upload", "prompt", "store", "db", "total"];

type Kind = "gateway" | "hono" | "peer" | "floor";

/** One column of the comparison: something that takes the same submit. */
interface Target {
  key: string;
  kind: Kind;
  runtime: Runtime;
  measure(connections: number, durationSec: number): Promise<MeasuredLoad>;
}

/** Every round of one target at one concurrency. */
type Runs = Map<string, Map<number, MeasuredLoad[]>>;

/**
 * POST /api/tasks with a 1 MB PNG at fixed concurrency against, side by side in one run: the
 * gateway on each runtime, the seed's Express design (bench/peers/express-seed, Node), a bare Hono
 * route that only parses the body (bench/baseline-server.ts, each runtime), and the floor: the same
 * upload + prompt + row insert done by a driver with no server in front (bench/drivers/floor.ts).
 * Every target is measured `rounds` times per concurrency, in alternating order (forward, then
 * backward), so that drift on a shared machine falls on every column alike. One MariaDB serves all
 * (the peer's design needs it); two paused fakes, so no job runs: the submit ends once the prompt
 * is queued, and running jobs would only add the fakes' CPU.
 */
export const submitScenario: Scenario = {
  key: "submit",
  title,
  once: true,
  run: async (ctx) => {
    const durationSec = ctx.quick ? 2 : 5;
    const rounds = 2;
    const levels = ctx.quick ? [1, 16] : [1, 16, 64];
    ensurePeerInstalled(ctx.log);
    const dir = mkdtempSync(path.join(tmpdir(), "aipack-bench-body-"));
    // Paused (no job runs) and forgetting uploads: a full run sends thousands of 1 MB images.
    const fakes = await startFakes(2, { paused: true, keepUploads: false });
    const stops: Array<() => Promise<void>> = [fakes.stop];
    try {
      const png = largePng();
      const targets: Target[] = [];
      const bodyFor = (name: string, userId: string) => {
        const { body, contentType } = multipartBody({ frontend: "style", userId, workflow: "invert" }, { name: "image", filename: "bench.png", contentType: "image/png", bytes: png });
        const bodyFile = path.join(dir, `${name}.bin`);
        writeFileSync(bodyFile, body);
        return { method: "POST" as const, paths: ["/api/tasks"], headers: { "content-type": contentType, ...benchAuth }, bodyFile };
      };
      const httpTarget = (key: string, kind: Kind, runtime: Runtime, url: string, pid: number, base: ReturnType<typeof bodyFor>): Target => ({
        key,
        kind,
        runtime,
        measure: (connections, sec) => measureLoad({ ...base, url, connections, durationSec: sec, serverTiming: kind === "gateway" }, pid),
      });
      const gateways: Gateway[] = [];
      for (const runtime of ctx.runtimes) {
        const gateway = await startGateway({ runtime, db: "mysql", comfyUrls: fakes.urls });
        gateways.push(gateway);
        stops.push(gateway.stop);
        const userId = await createUser(gateway.url, `bench-submit-${Date.now()}`);
        targets.push(httpTarget(`gateway on ${runtime}`, "gateway", runtime, gateway.url, gateway.pid, bodyFor(`gateway-${runtime}`, userId)));
      }
      const peer = await startPeer(fakes.urls[0]!);
      stops.push(peer.stop);
      targets.push(httpTarget("Express peer (node)", "peer", "node", peer.url, peer.pid, bodyFor("peer", "bench-peer-user")));
      for (const runtime of ctx.runtimes) {
        const baseline = await startBaseline(runtime);
        stops.push(baseline.stop);
        targets.push(httpTarget(`bare Hono route on ${runtime}`, "hono", runtime, baseline.url, baseline.pid, bodyFor(`hono-${runtime}`, "bench-hono-user")));
      }
      const imageFile = path.join(dir, "image.png");
      writeFileSync(imageFile, png);
      const floorDb = `aipb_${randomBytes(4).toString("hex")}_floor`;
      stops.push(() => dropDatabases(floorDb));
      targets.push({
        key: "floor (no server)",
        kind: "floor",
        runtime: "node",
        measure: (connections, sec) =>
          measureFloor({ comfyUrl: fakes.urls[0]!, databaseUrl: mysqlUrl, databaseName: floorDb, imageFile, connections, durationSec: sec, warmupSec: ctx.quick ? 0.5 : 1 }),
      });

      // A short unmeasured run of each: both runtimes JIT-compile the hot path before it counts.
      for (const target of targets) {
        ctx.log(`  warm-up ${target.key}`);
        await target.measure(4, ctx.quick ? 1 : 2);
      }
      const runs: Runs = new Map(targets.map((t) => [t.key, new Map(levels.map((c) => [c, [] as MeasuredLoad[]]))]));
      for (const c of levels) {
        for (let round = 0; round < rounds; round++) {
          const order = round % 2 === 0 ? targets : [...targets].reverse();
          for (const target of order) {
            ctx.log(`  c=${c} round ${round + 1}/${rounds} ${target.key} for ${durationSec} s`);
            runs.get(target.key)!.get(c)!.push(await target.measure(c, durationSec));
          }
        }
      }
      for (const gateway of gateways) {
        const problems = gateway.problems();
        if (problems.count > 0) ctx.note(`${title} on ${gateway.runtime}: the gateway logged ${problems.count} warn/error lines; last: ${problems.last.at(-1) ?? ""}`);
      }
      noteErrors(ctx, targets, runs, levels);
      ctx.table(renderComparison(targets, runs, levels, rounds, durationSec));
      ctx.table(renderTargets(targets, runs, levels));
      ctx.table(renderStages(targets.filter((t) => t.kind === "gateway"), runs, levels));
      return [];
    } finally {
      for (const stop of stops.reverse()) await stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** Totals over the rounds of one target at one concurrency. */
interface Pooled {
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  cpuPerRequest: number;
  fakesCpuPerRequest: number;
  rounds: MeasuredLoad[];
}

function pooled(rounds: MeasuredLoad[]): Pooled {
  const requests = rounds.reduce((s, r) => s + r.requests, 0);
  const mean = (f: (r: MeasuredLoad) => number) => rounds.reduce((s, r) => s + f(r), 0) / Math.max(1, rounds.length);
  return {
    reqPerSec: mean((r) => r.reqPerSec),
    p50: mean((r) => r.latency.p50),
    p99: mean((r) => r.latency.p99),
    errors: rounds.reduce((s, r) => s + r.errors + r.timeouts + r.non2xx, 0),
    cpuPerRequest: rounds.reduce((s, r) => s + r.serverCpuPerRequest * r.requests, 0) / Math.max(1, requests),
    fakesCpuPerRequest: rounds.reduce((s, r) => s + r.fakesCpuPerRequest * r.requests, 0) / Math.max(1, requests),
    rounds,
  };
}

const each = (p: Pooled, f: (r: MeasuredLoad) => number) => p.rounds.map((r) => fmt(f(r))).join(" / ");
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : "–");

function renderComparison(targets: Target[], runs: Runs, levels: number[], rounds: number, durationSec: number): string {
  const out = [
    `### Submit: gateway, Express peer, bare Hono route and floor, side by side`,
    "",
    `${rounds} rounds of ${durationSec} s per target and concurrency, alternating the order; each cell is "round 1 / round 2", ratios on their mean. CPU from /proc/<pid>/stat of each server process (the floor: the driver's own CPU). All on one MariaDB.`,
    "",
    "| c | target | req/s | p50 ms | p99 ms | errors | server CPU ms/req | fakes CPU ms/req | req/s vs peer | CPU/req vs peer |",
    "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const c of levels) {
    const peer = pooled(runs.get(targets.find((t) => t.kind === "peer")!.key)!.get(c)!);
    for (const target of targets) {
      const p = pooled(runs.get(target.key)!.get(c)!);
      out.push(
        `| ${c} | ${target.key} | ${each(p, (r) => r.reqPerSec)} | ${each(p, (r) => r.latency.p50)} | ${each(p, (r) => r.latency.p99)} | ${p.errors} | ${each(p, (r) => r.serverCpuPerRequest)} | ${fmt(p.fakesCpuPerRequest)} | ${ratio(p.reqPerSec, peer.reqPerSec)} | ${ratio(p.cpuPerRequest, peer.cpuPerRequest)} |`,
      );
    }
  }
  return `${out.join("\n")}\n`;
}

/** The issue's targets (issue 13), as ratios measured in this run. */
function renderTargets(targets: Target[], runs: Runs, levels: number[]): string {
  const get = (kind: Kind, runtime: Runtime, c: number) => {
    const target = targets.find((t) => t.kind === kind && (kind === "peer" || kind === "floor" || t.runtime === runtime));
    return target ? pooled(runs.get(target.key)!.get(c)!) : undefined;
  };
  const rows: Array<[string, number, string, boolean]> = [];
  const gatewayRuntimes = targets.filter((t) => t.kind === "gateway").map((t) => t.runtime);
  for (const runtime of gatewayRuntimes) {
    for (const c of levels) {
      const gw = get("gateway", runtime, c)!;
      const peer = get("peer", "node", c)!;
      rows.push([`c=${c} gateway on ${runtime} req/s ÷ peer`, gw.reqPerSec / peer.reqPerSec, "≥ 1.5", gw.reqPerSec / peer.reqPerSec >= 1.5]);
      rows.push([`c=${c} gateway on ${runtime} CPU/req ÷ peer`, gw.cpuPerRequest / peer.cpuPerRequest, "≤ 0.7", gw.cpuPerRequest / peer.cpuPerRequest <= 0.7]);
    }
    const gw1 = get("gateway", runtime, 1)!;
    const floor1 = get("floor", "node", 1)!;
    rows.push([`c=1 gateway on ${runtime} p50 ÷ floor`, gw1.p50 / floor1.p50, "≤ 1.2", gw1.p50 / floor1.p50 <= 1.2]);
  }
  if (gatewayRuntimes.includes("node") && gatewayRuntimes.includes("bun")) {
    for (const c of levels) {
      const node = get("gateway", "node", c)!;
      const bun = get("gateway", "bun", c)!;
      rows.push([`c=${c} gateway req/s bun ÷ node`, bun.reqPerSec / node.reqPerSec, "≥ 1", bun.reqPerSec >= node.reqPerSec]);
    }
  }
  const errors = targets.filter((t) => t.kind === "gateway").reduce((s, t) => s + levels.reduce((n, c) => n + pooled(runs.get(t.key)!.get(c)!).errors, 0), 0);
  rows.push(["gateway errors", errors, "0", errors === 0]);
  return [
    "### Submit: issue 13's targets, measured in this run",
    "",
    "| measure | value | target | met |",
    "|---|--:|--:|:-:|",
    ...rows.map(([name, value, target, met]) => `| ${name} | ${name.endsWith("errors") ? String(value) : `${value.toFixed(2)}×`} | ${target} | ${met ? "yes" : "no"} |`),
    "",
  ].join("\n");
}

/** The gateways' Server-Timing per stage (mean / p50 over every 2xx answer of every round). */
function renderStages(gateways: Target[], runs: Runs, levels: number[]): string {
  const columns = levels.flatMap((c) => gateways.map((g) => ({ c, g })));
  const out = [
    "### Submit: the gateway's stages (Server-Timing, ms: mean / p50)",
    "",
    `| stage | ${columns.map(({ c, g }) => `${g.runtime} c=${c}`).join(" | ")} |`,
    `|---|${columns.map(() => "--:").join("|")}|`,
  ];
  for (const stage of stages) {
    const cells = columns.map(({ c, g }) => {
      const rounds = runs.get(g.key)!.get(c)!.map((r) => r.stages[stage]).filter((s) => s !== undefined);
      if (rounds.length === 0) return "–";
      const count = rounds.reduce((s, r) => s + r.count, 0);
      const mean = rounds.reduce((s, r) => s + r.mean * r.count, 0) / Math.max(1, count);
      const p50 = rounds.reduce((s, r) => s + r.p50, 0) / rounds.length;
      return `${fmt(mean)} / ${fmt(p50)}`;
    });
    out.push(`| ${stage} | ${cells.join(" | ")} |`);
  }
  return `${out.join("\n")}\n`;
}

function noteErrors(ctx: ScenarioContext, targets: Target[], runs: Runs, levels: number[]): void {
  for (const target of targets) {
    for (const c of levels) {
      for (const run of runs.get(target.key)!.get(c)!) {
        const errors = run.errors + run.timeouts + run.non2xx;
        if (errors > 0) ctx.note(`${title} c=${c} ${target.key}: ${errors} errors; status codes ${JSON.stringify(run.statusCodes)}, connection errors ${run.errors}, timeouts ${run.timeouts}`);
      }
    }
  }
}
