import { submitTask } from "../lib/api.ts";
import { benchAuth } from "../lib/gateway.ts";
import { sleep } from "../lib/processes.ts";
import { fmt } from "../lib/stats.ts";

// Helpers of the scheduling scenario (bench/scenarios/scheduling.ts): the workload's random source,
// submitting and reading tasks back, and its table.

/**
 * The gateways compared, as their settings name them: early binding (bound at submit, as before
 * issue 16), late (queued in the gateway), and late without work-conserving dispatch (an idle server
 * does not take back a task prepared behind another's job), run for the mixed workloads only.
 */
export const columns = [
  { key: "early", label: "early", env: { SCHEDULING: "early" }, mixedOnly: false },
  { key: "late", label: "late", env: { SCHEDULING: "late" }, mixedOnly: false },
  { key: "late-nosteal", label: "late, no stealing", env: { SCHEDULING: "late", DISPATCH_STEAL: "off" }, mixedOnly: true },
] as const;
export type Column = (typeof columns)[number];
export type ColumnKey = Column["key"];

/** A workload: short (style/invert) and long (style/blur) jobs, lengths scaled down 5× from the product's. */
export interface Mix {
  key: string;
  title: string;
  shortMs: number;
  longMs: number;
  longShare: number;
}

/**
 * The issue's spread first (a swatch ~1 s, an img2img with many steps ~20 s, one job in ten long),
 * then the earlier, flatter mix (~1 s and ~10 s, 30% long), kept so both are read side by side.
 */
export const mixes: readonly Mix[] = [
  { key: "issue", title: "the issue's spread: 90% short (0.2 s), 10% long (4 s)", shortMs: 200, longMs: 4_000, longShare: 0.1 },
  { key: "previous", title: "the previous mix: 70% short (0.2 s), 30% long (2 s)", shortMs: 200, longMs: 2_000, longShare: 0.3 },
];
export const servers = 3;
export const load = 0.8;
/** Mean service time of a mix (ms). */
export const meanServiceMs = (mix: Mix) => (1 - mix.longShare) * mix.shortMs + mix.longShare * mix.longMs;
/** The pool's capacity in tasks per second under a mix. */
export const capacityPerSec = (mix: Mix) => (servers * 1000) / meanServiceMs(mix);

/** What one task looked like at the end, from GET /api/tasks. */
export interface TaskEnd {
  id: string;
  status: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A task the scenario submitted: who, what kind, and its id once the gateway answered. */
export interface Submitted {
  user: string;
  kind: "short" | "long";
  id: string | null;
  error?: string;
}

/** mulberry32: a seeded generator, so every run submits the same workload at the same times. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function submit(base: string, user: string, kind: "short" | "long", png: Uint8Array): Promise<Submitted> {
  try {
    return { user, kind, id: await submitTask(base, user, kind === "short" ? "invert" : "blur", png) };
  } catch (error) {
    return { user, kind, id: null, error: error instanceof Error ? error.message.slice(0, 200) : String(error) };
  }
}

export const terminal = (status: string) => status === "succeeded" || status === "failed" || status === "cancelled";

/** Polls each user's task list (once a second) until every submitted task ended or `timeoutMs` passed. */
export async function drain(base: string, users: string[], tasks: Submitted[], timeoutMs: number): Promise<TaskEnd[]> {
  const ids = new Set(tasks.filter((t) => t.id !== null).map((t) => t.id!));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ends = (await Promise.all(users.map((user) => listTasks(base, user)))).flat().filter((t) => ids.has(t.id));
    if ((ends.length === ids.size && ends.every((e) => terminal(e.status))) || Date.now() > deadline) return ends;
    await sleep(1_000);
  }
}

export async function listTasks(base: string, userId: string): Promise<TaskEnd[]> {
  const out: TaskEnd[] = [];
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ frontend: "style", userId, limit: "100", ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${base}/api/tasks?${query.toString()}`, { headers: benchAuth });
    const body = (await res.json()) as { items?: TaskEnd[]; nextCursor?: string | null };
    if (!res.ok || !body.items) throw new Error(`GET /api/tasks answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
    out.push(...body.items);
    cursor = body.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** How many prompts a ComfyUI is running (0 or 1) and holds waiting, from its /queue. */
export async function queueOf(url: string): Promise<{ running: number; pending: number }> {
  const res = await fetch(`${url}/queue`);
  const body = (await res.json()) as { queue_running?: unknown[]; queue_pending?: unknown[] };
  return { running: body.queue_running?.length ?? 0, pending: body.queue_pending?.length ?? 0 };
}

export const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
export const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN);

/** One group of rows of the table: its heading and the measures, in order. */
export interface RowGroup {
  title: string;
  rows: string[];
}

/**
 * The table: a column per gateway, a ratio to early binding per late column (wait rows only), and
 * a bold heading row per group. A column that did not run a group has empty cells there.
 */
export function renderTable(results: Map<ColumnKey, Map<string, number>>, groups: RowGroup[], arrivalsSec: number): string {
  const early = results.get("early");
  const late = columns.filter((column) => column.key !== "early");
  const cell = (v: number | undefined) => (v === undefined ? "" : Number.isInteger(v) ? String(v) : fmt(v));
  const ratio = (name: string, v: number | undefined) => {
    const base = early?.get(name);
    return name.includes("wait") && name.endsWith("(s)") && v !== undefined && base !== undefined && base > 0 ? `${(v / base).toFixed(2)}×` : "";
  };
  const lines: string[] = [];
  for (const group of groups) {
    lines.push(`| **${group.title}** |${" |".repeat(columns.length + late.length)}`);
    for (const name of group.rows) {
      const values = columns.map((column) => results.get(column.key)?.get(name));
      const ratios = late.map((column) => ratio(name, results.get(column.key)?.get(name)));
      lines.push(`| ${name} | ${values.map(cell).join(" | ")} | ${ratios.join(" | ")} |`);
    }
  }
  const main = mixes[0]!;
  return [
    "### Scheduling: early binding (bound at submit) vs late binding (queued in the gateway)",
    "",
    `${servers} fake ComfyUI servers; seeded Poisson arrivals at ${Math.round(load * 100)}% of the pool's capacity for ${arrivalsSec} s, per mix: ${mixes.map((mix) => `${mix.title}, ${(load * capacityPerSec(mix)).toFixed(2)} tasks/s`).join("; ")}. The kill run uses the first mix for two thirds of that time and kills server a past halfway, once it holds a task running and one waiting. Wait = createdAt → startedAt of GET /api/tasks. "Late, no stealing": DISPATCH_STEAL=off (mixed runs only). Targets (issue 16): p95 wait late ≤ 0.6× early; a kill fails only what the killed server was running; a light user's p95 wait within a few task lengths (${main.shortMs / 1000} s each here).`,
    "",
    `| measure | ${columns.map((column) => column.label).join(" | ")} | ${late.map((column) => `${column.label} ÷ early`).join(" | ")} |`,
    `|---|${columns.map(() => "--:").join("|")}|${late.map(() => "--:").join("|")}|`,
    ...lines,
    "",
  ].join("\n");
}
