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
  columns,
  drain,
  load,
  mean,
  mixes,
  queueOf,
  renderTable,
  seeded,
  servers,
  sorted,
  submit,
  terminal,
  type Column,
  type ColumnKey,
  type Mix,
  type RowGroup,
  type Submitted,
  type TaskEnd,
} from "./scheduling-support.ts";

const title = "scheduling: early vs late binding";
/** The heavy user's backlogs in the fairness runs. */
const heavyBacklogs = [100, 300];

/**
 * Three fake ComfyUI servers; short and long tasks arriving at random (seeded Poisson) at 80% of
 * the pool's capacity, run against a gateway with SCHEDULING=early (a task is bound to a server at
 * submit: the behaviour before issue 16), SCHEDULING=late (it waits in the gateway until a server
 * has room), and late with DISPATCH_STEAL=off (mixed runs only). Each run on a fresh gateway and
 * fresh fakes:
 * - mixed, once per workload mix: mean and p95 wait (task createdAt → startedAt, from GET /api/tasks);
 * - kill: the first mix with one server killed (`kill()`, sockets destroyed) past halfway, once it
 *   holds a task running and one waiting: tasks failed;
 * - fairness: one user submits 100 (then 300) short tasks, then ten users 3 each: the light users'
 *   p95 wait, which fair share keeps the same whatever the heavy user's backlog.
 * A gateway without the SCHEDULING setting runs today's early binding in every column (noted).
 */
export const schedulingScenario: Scenario = {
  key: "scheduling",
  title,
  once: true,
  run: async (ctx) => {
    const arrivalsSec = ctx.quick ? 12 : 30;
    if (!knowsScheduling()) ctx.note(`${title}: this gateway has no SCHEDULING setting yet; the "late" columns run today's early binding too`);
    const results = new Map<ColumnKey, Map<string, number>>();
    const groups: RowGroup[] = mixes.map((mix) => ({ title: `mixed: ${mix.title}`, rows: [] }));
    const killGroup: RowGroup = { title: `kill: server a killed, ${mixes[0]!.title}`, rows: [] };
    const fairGroup: RowGroup = { title: `fairness: one user with ${heavyBacklogs.join(" or ")} short tasks, ten with 3 each`, rows: [] };
    groups.push(killGroup, fairGroup);
    for (const column of columns) {
      const figures = new Map<string, number>();
      results.set(column.key, figures);
      const set = (group: RowGroup, name: string, value: number) => {
        if (!group.rows.includes(name)) group.rows.push(name);
        figures.set(name, value);
      };
      for (const [index, mix] of mixes.entries()) {
        const group = groups[index]!;
        const tag = `${mix.key} mix`;
        ctx.log(`  ${column.label}: ${tag}, ${arrivalsSec} s of arrivals at ${(load * capacityPerSec(mix)).toFixed(2)}/s`);
        const mixed = await withPool(ctx, column, mix, (pool) => mixedRun(ctx, pool, mix, arrivalsSec, null));
        set(group, `${tag}: tasks`, mixed.ends.length);
        set(group, `${tag}: mean wait (s)`, mean(mixed.waits) / 1000);
        set(group, `${tag}: p95 wait (s)`, percentile(sorted(mixed.waits), 95) / 1000);
        set(group, `${tag}: p95 wait, short tasks (s)`, percentile(sorted(mixed.shortWaits), 95) / 1000);
        set(group, `${tag}: tasks failed`, mixed.failed);
        set(group, `${tag}: tasks with no start time`, mixed.unstarted);
      }
      if (column.mixedOnly) continue;

      ctx.log(`  ${column.label}: one server killed past halfway`);
      const killed = await withPool(ctx, column, mixes[0]!, (pool) => mixedRun(ctx, pool, mixes[0]!, Math.round(arrivalsSec * 0.67), 0.5));
      set(killGroup, "kill: tasks", killed.ends.length);
      set(killGroup, "kill: running on the killed server", killed.runningOnKilled);
      set(killGroup, "kill: waiting on the killed server", killed.pendingOnKilled);
      set(killGroup, "kill: tasks failed", killed.failed);
      set(killGroup, "kill: tasks not ended after the drain", killed.unfinished);

      // Two backlogs: a light user's wait should not depend on how much the heavy user queued.
      for (const backlog of heavyBacklogs) {
        ctx.log(`  ${column.label}: one heavy user (${backlog} tasks) and ten light users (3 each)`);
        const fair = await withPool(ctx, column, mixes[0]!, (pool) => fairnessRun(ctx, pool, backlog));
        set(fairGroup, `fairness, heavy ${backlog}: light users' mean wait (s)`, mean(fair.light) / 1000);
        set(fairGroup, `fairness, heavy ${backlog}: light users' p95 wait (s)`, percentile(sorted(fair.light), 95) / 1000);
        set(fairGroup, `fairness, heavy ${backlog}: heavy user's p95 wait (s)`, percentile(sorted(fair.heavy), 95) / 1000);
      }
    }
    ctx.table(renderTable(results, groups, arrivalsSec));
    return [];
  },
};

function knowsScheduling(): boolean {
  const env = path.join(root, "src/config/env.ts");
  return existsSync(env) && readFileSync(env, "utf8").includes("SCHEDULING");
}

/** Fresh fakes (the mix's short and long jobs) and a fresh gateway as `column` says, stopped whatever happens. */
async function withPool<T>(ctx: ScenarioContext, column: Column, mix: Mix, work: (pool: { fakes: Fakes; gateway: Gateway }) => Promise<T>): Promise<T> {
  const fakes = await startFakes(servers, { nodeDelayMs: { ImageInvert: mix.shortMs, ImageBlur: mix.longMs } });
  try {
    // A lost server is declared lost after 3 s instead of 30 s, so the kill run ends within the drain.
    const gateway = await startGateway({ runtime: ctx.runtime, db: ctx.db, comfyUrls: fakes.urls, env: { ...column.env, COMFY_LOST_AFTER_MS: "3000" } });
    try {
      return await work({ fakes, gateway });
    } finally {
      const problems = gateway.problems();
      if (problems.count > 0) ctx.note(`${title} (${column.label}): the gateway logged ${problems.count} warn/error lines; last: ${problems.last.at(-1) ?? ""}`);
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
async function mixedRun(ctx: ScenarioContext, pool: { fakes: Fakes; gateway: Gateway }, mix: Mix, arrivalsSec: number, killAt: number | null) {
  const { fakes, gateway } = pool;
  const random = seeded(16);
  const users = await Promise.all(Array.from({ length: 20 }, (_, i) => createUser(gateway.url, `bench-sched-${Date.now()}-${i}`)));
  const png = smallPng();
  const rate = load * capacityPerSec(mix);
  const plan: Array<{ at: number; user: string; kind: "short" | "long" }> = [];
  for (let at = 0; ; ) {
    at += (-Math.log(1 - random()) / rate) * 1000;
    if (at >= arrivalsSec * 1000) break;
    plan.push({ at, user: users[Math.floor(random() * users.length)]!, kind: random() < mix.longShare ? "long" : "short" });
  }
  const submitted: Array<Promise<Submitted>> = [];
  const started = performance.now();
  const kill = killAt === null ? null : killWhenBusy(ctx, fakes, started, killAt * arrivalsSec * 1000, 0.9 * arrivalsSec * 1000);
  for (const item of plan) {
    const wait = item.at - (performance.now() - started);
    if (wait > 0) await sleep(wait);
    submitted.push(submit(gateway.url, item.user, item.kind, png));
  }
  const { running: runningOnKilled, pending: pendingOnKilled } = (await kill) ?? { running: 0, pending: 0 };
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

/**
 * Kills server a once past `fromMs` (since `started`) at the first moment its /queue shows a task
 * running and one waiting (read every 20 ms), at the latest at `latestMs`, so that the run shows
 * what happens to each kind. Returns what the server held then.
 */
async function killWhenBusy(ctx: ScenarioContext, fakes: Fakes, started: number, fromMs: number, latestMs: number) {
  await sleep(Math.max(0, fromMs - (performance.now() - started)));
  let queue = await queueOf(fakes.urls[0]!);
  while (!(queue.running >= 1 && queue.pending >= 1) && performance.now() - started < latestMs) {
    await sleep(20);
    queue = await queueOf(fakes.urls[0]!);
  }
  fakes.list[0]!.setOptions({ paused: true });
  await fakes.list[0]!.kill();
  ctx.log(`    killed server a at ${((performance.now() - started) / 1000).toFixed(1)} s (running there: ${queue.running}, waiting there: ${queue.pending})`);
  return queue;
}

/** One user submits 100 short tasks, then ten users 3 each; every task's wait once all ended. */
async function fairnessRun(ctx: ScenarioContext, pool: { fakes: Fakes; gateway: Gateway }, backlog: number) {
  const { gateway } = pool;
  const stamp = Date.now();
  const heavy = await createUser(gateway.url, `bench-heavy-${stamp}`);
  const light = await Promise.all(Array.from({ length: 10 }, (_, i) => createUser(gateway.url, `bench-light-${stamp}-${i}`)));
  const png = smallPng();
  // The heavy user's submits, 8 at a time (a client with a connection pool), then the others.
  const heavyTasks: Submitted[] = [];
  for (let i = 0; i < backlog; i += 8) {
    heavyTasks.push(...(await Promise.all(Array.from({ length: Math.min(8, backlog - i) }, () => submit(gateway.url, heavy, "short", png)))));
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
