import type { MeasuredLoad } from "../lib/load.ts";
import type { Runtime } from "../lib/gateway.ts";
import { fmt } from "../lib/stats.ts";
import type { ScenarioContext } from "./scenario.ts";

// The submit scenario's tables (bench/scenarios/submit.ts): targets side by side, issue 13's
// ratios, the gateway's stages.

export const title = "1 submit 1 MB PNG";
const stages = ["parse", "check", "user", "pick", "upload", "prompt", "store", "db", "total"];

export type Kind = "gateway" | "hono" | "peer" | "floor";

/** One column of the comparison: something that takes the same submit. */
export interface Target {
  key: string;
  kind: Kind;
  runtime: Runtime;
  measure(connections: number, durationSec: number): Promise<MeasuredLoad>;
}

/** Every round of one target at one concurrency. */
export type Runs = Map<string, Map<number, MeasuredLoad[]>>;

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
    // A target that answered nothing in a window has no latency or CPU per request to compare.
    p50: requests === 0 ? Number.NaN : mean((r) => r.latency.p50),
    p99: mean((r) => r.latency.p99),
    errors: rounds.reduce((s, r) => s + r.errors + r.timeouts + r.non2xx, 0),
    cpuPerRequest: requests === 0 ? Number.NaN : rounds.reduce((s, r) => s + r.serverCpuPerRequest * r.requests, 0) / requests,
    fakesCpuPerRequest: rounds.reduce((s, r) => s + r.fakesCpuPerRequest * r.requests, 0) / Math.max(1, requests),
    rounds,
  };
}

const each = (p: Pooled, f: (r: MeasuredLoad) => number) => p.rounds.map((r) => fmt(f(r))).join(" / ");
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : "–");

export function renderComparison(targets: Target[], runs: Runs, levels: number[], rounds: number, durationSec: number): string {
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

/** The targets (issue 13), as ratios measured in this run. */
export function renderTargets(targets: Target[], runs: Runs, levels: number[]): string {
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
    ...rows.map(([name, value, target, met]) => {
      if (name.endsWith("errors")) return `| ${name} | ${value} | ${target} | ${met ? "yes" : "no"} |`;
      // A ratio with a side that answered nothing (0 req/s, no CPU per request) is not a measurement.
      if (!Number.isFinite(value)) return `| ${name} | – | ${target} | no data |`;
      return `| ${name} | ${value.toFixed(2)}× | ${target} | ${met ? "yes" : "no"} |`;
    }),
    "",
  ].join("\n");
}

/** The gateways' Server-Timing per stage (mean / p50 over every 2xx answer of every round). */
export function renderStages(gateways: Target[], runs: Runs, levels: number[]): string {
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

export function noteErrors(ctx: ScenarioContext, targets: Target[], runs: Runs, levels: number[]): void {
  for (const target of targets) {
    for (const c of levels) {
      for (const run of runs.get(target.key)!.get(c)!) {
        const errors = run.errors + run.timeouts + run.non2xx;
        if (errors > 0) ctx.note(`${title} c=${c} ${target.key}: ${errors} errors; status codes ${JSON.stringify(run.statusCodes)}, connection errors ${run.errors}, timeouts ${run.timeouts}`);
      }
    }
  }
}
