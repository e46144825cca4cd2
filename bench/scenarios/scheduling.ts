import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { createUser } from "../lib/api.ts";
import { startFakes, type Fakes } from "../lib/fakes.ts";
import { root, startGateway, type Gateway } from "../lib/gateway.ts";
import { smallPng } from "../lib/images.ts";
import { sleep } from "../lib/processes.ts";
import { percentile } from "../lib/stats.ts";
import type { Scenario, ScenarioContext } from "./scenario.ts";
import {
  capacityPerSec,
  drain,
  load,
  longMs,
  longShare,
  mean,
  modes,
  queueOf,
  renderTable,
  seeded,
  servers,
  shortMs,
  sorted,
  submit,
  terminal,
  type Mode,
  type Submitted,
  type TaskEnd,
} from "./scheduling-support.ts";

const title = "scheduling: early vs late binding";

/**
 * Three fake ComfyUI servers; short (0.2 s) and long (2 s) tasks arriving at random (seeded Poisson)
 * at 80% of the pool's capacity, run against a gateway with SCHEDULING=early (a task is bound to a
 * server at submit: today's behaviour) and SCHEDULING=late (it waits in the gateway until a server
 * has room, issue 16). Three runs per mode, each on a fresh gateway and fresh fakes:
 * - mixed: mean and p95 wait (task createdAt → startedAt, from GET /api/tasks);
 * - kill: the same workload with one server killed (`kill()`, sockets destroyed) halfway: tasks failed;
 * - fairness: one user submits 100 short tasks, then ten users 3 each: the light users' p95 wait.
 * A gateway without the SCHEDULING setting runs today's early binding in both columns (noted).
 */
export const schedulingScenario: Scenario = {
  key: "scheduling",
  title,
  once: true,
  run: async (ctx) => {
    const arrivalsSec = ctx.quick ? 12 : 30;
    if (!knowsScheduling()) ctx.note(`${title}: this gateway has no SCHEDULING setting yet; the "late" column runs today's early binding too`);
    const results = new Map<Mode, Map<string, number>>();
    for (const mode of modes) {
      const figures = new Map<string, number>();
      results.set(mode, figures);
      ctx.log(`  ${mode}: mixed workload, ${arrivalsSec} s of arrivals at ${(load * capacityPerSec).toFixed(2)}/s`);
      const mixed = await withPool(ctx, mode, (pool) => mixedRun(ctx, pool, arrivalsSec, null));
      figures.set("tasks", mixed.ends.length);
      figures.set("mean wait (s)", mean(mixed.waits) / 1000);
      figures.set("p95 wait (s)", percentile(sorted(mixed.waits), 95) / 1000);
      figures.set("p95 wait, short tasks (s)", percentile(sorted(mixed.shortWaits), 95) / 1000);
      figures.set("tasks failed", mixed.failed);
      figures.set("tasks with no start time", mixed.unstarted);

      ctx.log(`  ${mode}: one server killed halfway`);
      const killed = await withPool(ctx, mode, (pool) => mixedRun(ctx, pool, Math.round(arrivalsSec * 0.67), 0.5));
      figures.set("kill: tasks", killed.ends.length);
      figures.set("kill: running on the killed server", killed.runningOnKilled);
      figures.set("kill: waiting on the killed server", killed.pendingOnKilled);
      figures.set("kill: tasks failed", killed.failed);
      figures.set("kill: tasks not ended after the drain", killed.unfinished);

      ctx.log(`  ${mode}: one heavy user (100 tasks) and ten light users (3 each)`);
      const fair = await withPool(ctx, mode, (pool) => fairnessRun(ctx, pool));
      figures.set("fairness: light users' mean wait (s)", mean(fair.light) / 1000);
      figures.set("fairness: light users' p95 wait (s)", percentile(sorted(fair.light), 95) / 1000);
      figures.set("fairness: heavy user's p95 wait (s)", percentile(sorted(fair.heavy), 95) / 1000);
    }
    ctx.table(renderTable(results, arrivalsSec));
    return [];
  },
};

function knowsScheduling(): boolean {
  const env = path.join(root, "src/config/env.ts");
  return existsSync(env) && readFileSync(env, "utf8").includes("SCHEDULING");
}

/** Fresh fakes (short and long jobs) and a fresh gateway in `mode`, stopped whatever happens. */
async function withPool<T>(ctx: ScenarioContext, mode: Mode, work: (pool: { fakes: Fakes; gateway: Gateway }) => Promise<T>): Promise<T> {
  const fakes = await startFakes(servers, { nodeDelayMs: { ImageInvert: shortMs, ImageBlur: longMs } });
  try {
    // A lost server is declared lost after 3 s instead of 30 s, so the kill run ends within the drain.
    const gateway = await startGateway({ runtime: ctx.runtime, db: ctx.db, comfyUrls: fakes.urls, env: { SCHEDULING: mode, COMFY_LOST_AFTER_MS: "3000" } });
    try {
      return await work({ fakes, gateway });
    } finally {
      const problems = gateway.problems();
      if (problems.count > 0) ctx.note(`${title} (${mode}): the gateway logged ${problems.count} warn/error lines; last: ${problems.last.at(-1) ?? ""}`);
      await gateway.stop();
    }
  } finally {
    await fakes.stop();
  }
}

/**
 * Submits a seeded Poisson stream (`arrivalsSec` long, 20 users) and waits for every task to end.
 * With `killAt` (a share of the arrival window) the first server is killed then.
 */
async function mixedRun(ctx: ScenarioContext, pool: { fakes: Fakes; gateway: Gateway }, arrivalsSec: number, killAt: number | null) {
  const { fakes, gateway } = pool;
  const random = seeded(16);
  const users = await Promise.all(Array.from({ length: 20 }, (_, i) => createUser(gateway.url, `bench-sched-${Date.now()}-${i}`)));
  const png = smallPng();
  const rate = load * capacityPerSec;
  const plan: Array<{ at: number; user: string; kind: "short" | "long" }> = [];
  for (let at = 0; ; ) {
    at += (-Math.log(1 - random()) / rate) * 1000;
    if (at >= arrivalsSec * 1000) break;
    plan.push({ at, user: users[Math.floor(random() * users.length)]!, kind: random() < longShare ? "long" : "short" });
  }
  const submitted: Array<Promise<Submitted>> = [];
  let runningOnKilled = 0;
  let pendingOnKilled = 0;
  const started = performance.now();
  let killed = killAt === null;
  for (const item of plan) {
    // Killed once past `killAt` at a moment when tasks wait on it (at most by 90% of the window),
    // so that the run shows what happens to tasks a server had queued but not started.
    if (!killed && item.at >= killAt! * arrivalsSec * 1000) {
      const queue = await queueOf(fakes.urls[0]!);
      if (queue.pending >= 2 || item.at >= 0.9 * arrivalsSec * 1000) {
        killed = true;
        runningOnKilled = queue.running;
        pendingOnKilled = queue.pending;
        fakes.list[0]!.setOptions({ paused: true });
        await fakes.list[0]!.kill();
        ctx.log(`    killed server a at ${((performance.now() - started) / 1000).toFixed(1)} s (running there: ${queue.running}, waiting there: ${queue.pending})`);
      }
    }
    const wait = item.at - (performance.now() - started);
    if (wait > 0) await sleep(wait);
    submitted.push(submit(gateway.url, item.user, item.kind, png));
  }
  const tasks = await Promise.all(submitted);
  const ends = await drain(gateway.url, users, tasks, killAt === null ? 90_000 : 60_000);
  const kinds = new Map(tasks.filter((t) => t.id !== null).map((t) => [t.id!, t.kind]));
  const waits: number[] = [];
  const shortWaits: number[] = [];
  let unstarted = 0;
  for (const end of ends) {
    if (end.startedAt === null) {
      if (end.status === "succeeded") unstarted += 1;
      continue;
    }
    const wait = Date.parse(end.startedAt) - Date.parse(end.createdAt);
    waits.push(wait);
    if (kinds.get(end.id) === "short") shortWaits.push(wait);
  }
  const refused = tasks.filter((t) => t.id === null).length;
  if (refused > 0) ctx.note(`${title}: ${refused} submits refused; first: ${tasks.find((t) => t.error)?.error ?? ""}`);
  return {
    ends,
    waits,
    shortWaits,
    unstarted,
    runningOnKilled,
    pendingOnKilled,
    // A submit refused because its server was gone counts as failed too: the user lost that task.
    failed: ends.filter((e) => e.status === "failed").length + refused,
    unfinished: ends.filter((e) => !terminal(e.status)).length,
  };
}

/** One user submits 100 short tasks, then ten users 3 each; every task's wait once all ended. */
async function fairnessRun(ctx: ScenarioContext, pool: { fakes: Fakes; gateway: Gateway }) {
  const { gateway } = pool;
  const stamp = Date.now();
  const heavy = await createUser(gateway.url, `bench-heavy-${stamp}`);
  const light = await Promise.all(Array.from({ length: 10 }, (_, i) => createUser(gateway.url, `bench-light-${stamp}-${i}`)));
  const png = smallPng();
  // The heavy user's 100 submits, 8 at a time (a client with a connection pool), then the others.
  const heavyTasks: Submitted[] = [];
  for (let i = 0; i < 100; i += 8) {
    heavyTasks.push(...(await Promise.all(Array.from({ length: Math.min(8, 100 - i) }, () => submit(gateway.url, heavy, "short", png)))));
  }
  const lightTasks = await Promise.all(light.flatMap((user) => [0, 1, 2].map(() => submit(gateway.url, user, "short", png))));
  const ends = await drain(gateway.url, [heavy, ...light], [...heavyTasks, ...lightTasks], 90_000);
  const lightIds = new Set(lightTasks.map((t) => t.id));
  const wait = (e: TaskEnd) => (e.startedAt === null ? Number.NaN : Date.parse(e.startedAt) - Date.parse(e.createdAt));
  const refused = [...heavyTasks, ...lightTasks].filter((t) => t.id === null).length;
  if (refused > 0) ctx.note(`${title} fairness: ${refused} submits refused`);
  return {
    light: ends.filter((e) => lightIds.has(e.id)).map(wait).filter(Number.isFinite),
    heavy: ends.filter((e) => !lightIds.has(e.id)).map(wait).filter(Number.isFinite),
  };
}
