import type { HttpLoadConfig, HttpLoadResult } from "../drivers/http-load.ts";
import type { PollersConfig, PollersResult } from "../drivers/pollers.ts";
import type { FloorConfig, FloorResult } from "../drivers/floor.ts";
import { startDriver } from "./driver.ts";
import { cpuMs } from "./processes.ts";

/** One autocannon run, with the CPU time the server process and this process spent meanwhile. */
export interface MeasuredLoad extends HttpLoadResult {
  /** CPU ms the server process used per answered request. */
  serverCpuPerRequest: number;
  /** Share of one core the server used during the run (1 = one core busy). */
  serverCores: number;
  /** CPU ms this process (where the fakes live) used per answered request. */
  fakesCpuPerRequest: number;
  /** Length of the measured window. */
  elapsedMs: number;
  /** How much each number `probe` returns grew during the window. */
  probeDelta: number[];
}

/** Runs the http-load driver (autocannon) against a server whose pid is `serverPid`. */
export function measureLoad(config: HttpLoadConfig, serverPid: number, probe?: () => number[]): Promise<MeasuredLoad> {
  const budgetMs = (config.durationSec ?? 0) * 1000 + (config.amount ? 600_000 : 0) + 60_000;
  return measure("http-load", config, budgetMs, serverPid, probe);
}

/** Runs the pollers driver (clients polling at their own phase) against a server. */
export function measurePolling(config: PollersConfig, serverPid: number, probe?: () => number[]): Promise<MeasuredLoad & PollersResult> {
  return measure<PollersResult>("pollers", config, (config.warmupSec + config.durationSec) * 1000 + 60_000, serverPid, probe);
}

async function measure<R extends HttpLoadResult = HttpLoadResult>(
  name: string,
  config: object,
  budgetMs: number,
  serverPid: number,
  probe: () => number[] = () => [],
): Promise<MeasuredLoad & R> {
  const driver = startDriver(name, config);
  try {
    // The driver's own start (tsx) stays outside the window: it opens once autocannon starts.
    await driver.next("started", 60_000);
    const cpuBefore = cpuMs(serverPid);
    const ownBefore = process.cpuUsage();
    const probeBefore = probe();
    const started = performance.now();
    const event = await driver.next("result", budgetMs);
    const elapsedMs = performance.now() - started;
    const serverCpu = cpuMs(serverPid) - cpuBefore;
    const own = process.cpuUsage(ownBefore);
    const probeDelta = probe().map((value, i) => value - (probeBefore[i] ?? 0));
    const result = event.result as R;
    const answered = Math.max(1, result.requests);
    return {
      ...result,
      serverCpuPerRequest: serverCpu / answered,
      serverCores: serverCpu / elapsedMs,
      fakesCpuPerRequest: (own.user + own.system) / 1000 / answered,
      elapsedMs,
      probeDelta,
    };
  } finally {
    await driver.stop();
  }
}

/** Runs the floor driver (the submit's work with no server in front); its own CPU is the "server" CPU. */
export async function measureFloor(config: FloorConfig): Promise<MeasuredLoad> {
  const driver = startDriver("floor", config);
  try {
    await driver.next("started", 60_000 + config.warmupSec * 1000);
    const ownBefore = process.cpuUsage();
    const event = await driver.next("result", config.durationSec * 1000 + 60_000);
    const own = process.cpuUsage(ownBefore);
    const result = event.result as FloorResult;
    const answered = Math.max(1, result.requests);
    return {
      ...result,
      serverCpuPerRequest: result.cpuMs / answered,
      serverCores: result.cpuMs / result.elapsedMs,
      fakesCpuPerRequest: (own.user + own.system) / 1000 / answered,
      probeDelta: [],
    };
  } finally {
    await driver.stop();
  }
}
