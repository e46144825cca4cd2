import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { root } from "./gateway.ts";
import { spawnTracked, stopChild, tailOf } from "./processes.ts";

/** A JSON line a driver printed: `{ event: "ready" | "result" | ..., ... }`. */
export type DriverEvent = { event: string } & Record<string, unknown>;

/** A load generator running in its own process, talking JSON lines on stdout. */
export interface Driver {
  child: ChildProcess;
  /** Resolves with the first event of that name (rejects if the driver exits first). */
  next(event: string, timeoutMs?: number): Promise<DriverEvent>;
  stop(): Promise<void>;
}

/**
 * Starts `bench/drivers/<name>.ts` on Node (tsx), whatever the gateway's runtime: the load
 * generator stays the same so that only the server changes between the columns.
 */
export function startDriver(name: string, config: unknown): Driver {
  const child = spawnTracked(path.join(root, "node_modules/.bin/tsx"), [path.join(root, `bench/drivers/${name}.ts`)], {
    cwd: root,
    env: { ...process.env, BENCH_DRIVER_CONFIG: JSON.stringify(config) },
  });
  const tail = tailOf(child, 20);
  const seen: DriverEvent[] = [];
  const waiters: Array<() => void> = [];
  let partial = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("{")) continue;
      seen.push(JSON.parse(line) as DriverEvent);
      waiters.splice(0).forEach((wake) => wake());
    }
  });
  let exited = false;
  // "close", not "exit": a large last event may still sit in the stdout pipe when the process ends.
  child.once("close", () => {
    exited = true;
    waiters.splice(0).forEach((wake) => wake());
  });
  const next = (event: string, timeoutMs = 120_000) =>
    new Promise<DriverEvent>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`driver ${name}: no "${event}" in ${timeoutMs} ms\n${tail()}`)), timeoutMs);
      const check = () => {
        const found = seen.find((e) => e.event === event);
        if (found) {
          clearTimeout(timer);
          return resolve(found);
        }
        const failed = seen.find((e) => e.event === "error");
        if (failed || exited) {
          clearTimeout(timer);
          return reject(new Error(`driver ${name} ${failed ? `failed: ${String(failed.message)}` : "exited"}\n${tail()}`));
        }
        waiters.push(check);
      };
      check();
    });
  return { child, next, stop: () => stopChild(child) };
}
