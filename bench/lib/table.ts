import { fmt } from "./stats.ts";
import type { Runtime } from "./gateway.ts";

/** One measured figure of one scenario on one runtime. */
export interface Metric {
  scenario: string;
  name: string;
  value: number;
  unit: string;
  /** Shown instead of the value (e.g. "mean / p50"); the ratio still uses `value`. */
  display?: string;
  /** Which table the row belongs to; the main one when unset. */
  group?: string;
}

/** A scenario that threw: its message takes the row's place. */
export interface Failure {
  scenario: string;
  message: string;
}

export type Outcomes = Partial<Record<Runtime, { metrics: Metric[]; failures: Failure[] }>>;

export const mainGroup = "Results";

/** Markdown tables (one per group): one row per figure, one column per runtime, then Bun/Node. */
export function renderTables(outcomes: Outcomes): string {
  const runtimes = (["node", "bun"] as const).filter((r) => outcomes[r]);
  const groups = new Map<string, Map<string, Partial<Record<Runtime, Metric | string>>>>();
  const rowOf = (group: string, key: string) => {
    const rows = groups.get(group) ?? new Map();
    groups.set(group, rows);
    const row = rows.get(key) ?? {};
    rows.set(key, row);
    return row;
  };
  for (const runtime of runtimes) {
    for (const metric of outcomes[runtime]!.metrics) rowOf(metric.group ?? mainGroup, `${metric.scenario}\u0000${metric.name} (${metric.unit})`)[runtime] = metric;
    for (const failure of outcomes[runtime]!.failures) rowOf(mainGroup, `${failure.scenario}\u0000FAILED`)[runtime] = `ERROR: ${oneLine(failure.message)}`;
  }
  const both = runtimes.length === 2;
  const out: string[] = [];
  for (const [group, rows] of groups) {
    out.push(`### ${group}`, "");
    out.push(`| scenario | measure | ${runtimes.join(" | ")}${both ? " | bun/node" : ""} |`);
    out.push(`|---|---|${runtimes.map(() => "--:").join("|")}|${both ? "--:|" : ""}`);
    for (const [key, row] of rows) {
      const [scenario, name] = key.split("\u0000");
      const cells = runtimes.map((r) => cell(row[r]));
      const node = row.node;
      const bun = row.bun;
      const ratio = typeof node === "object" && typeof bun === "object" && node.value !== 0 ? `${(bun.value / node.value).toFixed(2)}×` : "";
      out.push(`| ${scenario} | ${name} | ${cells.join(" | ")}${both ? ` | ${ratio}` : ""} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

function cell(value: Metric | string | undefined): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  return value.display ?? fmt(value.value);
}

function oneLine(message: string): string {
  return message.replace(/\s+/g, " ").replaceAll("|", "/").slice(0, 160);
}
