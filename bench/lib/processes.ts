import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

// Every child the bench starts is registered here so that an error, a failed scenario or Ctrl-C
// never leaves a gateway or a load generator running (each is killed by its own pid).
const children = new Set<ChildProcess>();

/** Spawns a child process that `killAll()` will end; stdout/stderr are piped. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** SIGKILLs every child still running, and the processes they started (tsx runs node under it). */
export function killAll(): void {
  for (const child of children) {
    if (child.pid === undefined || child.exitCode !== null) continue;
    for (const pid of [...descendants(child.pid), child.pid]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

/** Ends one child politely (SIGTERM), then for good after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pids = child.pid === undefined ? [] : descendants(child.pid);
  child.kill("SIGTERM");
  const timer = setTimeout(() => {
    for (const pid of [...pids, child.pid ?? 0]) if (pid > 0) tryKill(pid);
  }, graceMs);
  await exited;
  clearTimeout(timer);
  // tsx forwards SIGTERM to its node child; make sure nothing outlives the wrapper.
  for (const pid of pids) tryKill(pid);
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Every descendant pid of `pid`, children before grandchildren (from /proc). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift()!;
    let text = "";
    try {
      text = readFileSync(`/proc/${current}/task/${current}/children`, "utf8");
    } catch {
      continue;
    }
    for (const child of text.trim().split(/\s+/).filter(Boolean).map(Number)) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** The process doing the work: the deepest descendant (tsx's node child), or `pid` itself (bun). */
export function workerPid(pid: number): number {
  return descendants(pid).at(-1) ?? pid;
}

/** Resident set size of a process in MiB, from /proc/<pid>/status VmRSS. */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address !== "object") throw new Error("no port");
  return address.port;
}

/** Keeps the last lines a child printed, for error messages. */
export function tailOf(child: ChildProcess, keep = 40): () => string {
  const lines: string[] = [];
  const push = (chunk: Buffer) => {
    lines.push(...chunk.toString().split("\n").filter(Boolean));
    if (lines.length > keep) lines.splice(0, lines.length - keep);
  };
  child.stdout?.on("data", push);
  child.stderr?.on("data", push);
  return () => lines.join("\n");
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const clockTicks = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, all threads) a process has used so far, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}
