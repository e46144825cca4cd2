import { submitTask } from "../lib/api.ts";
import { benchAuth } from "../lib/gateway.ts";
import { sleep } from "../lib/processes.ts";
import { fmt } from "../lib/stats.ts";

// Helpers of the scheduling scenario (bench/scenarios/scheduling.ts): the workload's random source,
// submitting and reading tasks back, and its table.

/** The two ways a task reaches a server, as the gateway's SCHEDULING setting names them. */
export const modes = ["early", "late"] as const;
export type Mode = (typeof modes)[number];

/** Job lengths scaled down 5× from the product's (a swatch ~1 s, a many-step img2img ~10 s). */
export const shortMs = 200;
export const longMs = 2_000;
export const longShare = 0.3;
export const servers = 3;
/** Mean service time and the pool's capacity in tasks per second. */
export const meanServiceMs = (1 - longShare) * shortMs + longShare * longMs;
export const capacityPerSec = (servers * 1000) / meanServiceMs;
export const load = 0.8;

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

export function renderTable(results: Map<Mode, Map<string, number>>, arrivalsSec: number): string {
  const early = results.get("early")!;
  const late = results.get("late")!;
  const rows = [...early.keys()].map((name) => {
    const a = early.get(name)!;
    const b = late.get(name)!;
    const ratio = name.includes("wait") && name.endsWith("(s)") && a > 0 ? `${(b / a).toFixed(2)}×` : "";
    const cell = (v: number) => (Number.isInteger(v) ? String(v) : fmt(v));
    return `| ${name} | ${cell(a)} | ${cell(b)} | ${ratio} |`;
  });
  return [
    "### Scheduling: early binding (bound at submit) vs late binding (queued in the gateway)",
    "",
    `${servers} fake ComfyUI servers; ${Math.round((1 - longShare) * 100)}% short tasks (${shortMs / 1000} s) and ${Math.round(longShare * 100)}% long (${longMs / 1000} s); seeded Poisson arrivals at ${Math.round(load * 100)}% of the pool's capacity (${(load * capacityPerSec).toFixed(2)} tasks/s) for ${arrivalsSec} s (the kill run: two thirds of that, server a killed halfway). Wait = createdAt → startedAt of GET /api/tasks. Targets (issue 16): p95 wait late ≤ 0.6× early; a kill fails only what the killed server was running; a light user's p95 wait within a few task lengths.`,
    "",
    "| measure | early | late | late ÷ early |",
    "|---|--:|--:|--:|",
    ...rows,
    "",
  ].join("\n");
}
