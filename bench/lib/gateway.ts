import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { deferCleanup } from "./cleanup.ts";
import { freePort, sleep, spawnTracked, stopChild, tailOf, workerPid } from "./processes.ts";
import { relaxedLimitsEnv } from "../../test/support/relaxed-limits.ts";

export type Runtime = "node" | "bun";
export type Db = "sqlite" | "mysql";

export const root = path.resolve(import.meta.dirname, "../..");
export const mysqlUrl = "mysql://root@127.0.0.1:3306";

/** The same command lines `npm start` and `npm run start:bun` use, without npm in between. */
export function runtimeCommand(runtime: Runtime, script: string): [string, string[]] {
  return runtime === "node" ? [path.join(root, "node_modules/.bin/tsx"), [script]] : [path.join(root, "node_modules/.bin/bun"), [script]];
}

/**
 * How the gateway starts: as in production (`node dist/index.js`, the image's command; Bun runs the
 * sources itself), or Node running the sources through tsx (`npm run dev` without the watcher).
 */
export type Launcher = "production" | "tsx";

export function gatewayCommand(runtime: Runtime, launcher: Launcher = "production"): [string, string[]] {
  if (runtime === "bun") return runtimeCommand("bun", "src/index.bun.ts");
  return launcher === "tsx" ? runtimeCommand("node", "src/index.ts") : [process.execPath, [path.join(root, "dist/index.js")]];
}

/** A running gateway process. */
export interface Gateway {
  runtime: Runtime;
  url: string;
  /** The process that serves (under tsx, its node child). */
  pid: number;
  /** Warn/error log lines seen so far, and the last ones (the gateway logs JSON lines). */
  problems(): { count: number; last: string[] };
  tail(): string;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  runtime: Runtime;
  db: Db;
  comfyUrls: string[];
  env?: Record<string, string>;
  launcher?: Launcher;
}

/** The bench's credential: the admin key it gives every gateway it starts (acts on every frontend). */
export const benchAdminKey = `bench-admin-${randomBytes(16).toString("hex")}`;
export const benchAuth = { authorization: `Bearer ${benchAdminKey}` };

/** Starts the gateway and waits until it listens and sees every fake as available. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), "aipack-bench-"));
  const prefix = `aipb_${randomBytes(4).toString("hex")}_`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    HOST: "127.0.0.1",
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    COMFY_SERVERS: options.comfyUrls.map((url, i) => `${String.fromCharCode(97 + i)}=${url}`).join(","),
    POOL_CHECK_INTERVAL_MS: "2000",
    // Every limit is checked (the cost is measured) but none is reached: the load is one client.
    ...relaxedLimitsEnv,
    ADMIN_KEY: benchAdminKey,
    ...(options.db === "mysql" ? { DATABASE_URL: mysqlUrl, DATABASE_PREFIX: prefix } : {}),
    ...options.env,
  };
  const [command, args] = gatewayCommand(options.runtime, options.launcher);
  const child = spawnTracked(command, args, { cwd: root, env });
  const tail = tailOf(child);
  const problems = watchProblems(child);
  const url = `http://127.0.0.1:${port}`;
  const cleanup = deferCleanup(async () => {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
    if (options.db === "mysql") await dropDatabases(prefix);
  });
  try {
    await waitForLine(child, '"message":"aipack listening"', 60_000, tail);
    await waitForServers(url, options.comfyUrls.length, 30_000);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { runtime: options.runtime, url, pid: workerPid(child.pid!), problems, tail, stop: cleanup };
}

function watchProblems(child: ChildProcess): () => { count: number; last: string[] } {
  let count = 0;
  const last: string[] = [];
  let partial = "";
  const onData = (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (!/"level":"(warn|error)"/.test(line) && !/^\s*(Error|TypeError|RangeError)/.test(line)) continue;
      count += 1;
      last.push(line.slice(0, 400));
      if (last.length > 5) last.shift();
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  return () => ({ count, last: [...last] });
}

async function waitForLine(child: ChildProcess, needle: string, timeoutMs: number, tail: () => string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => fail(new Error(`gateway did not start in ${timeoutMs} ms:\n${tail()}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-4096);
      if (seen.includes(needle)) done();
    };
    const onExit = (code: number | null) => fail(new Error(`gateway exited with ${code}:\n${tail()}`));
    const done = () => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      resolve();
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      reject(error);
    };
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}

async function waitForServers(url: string, wanted: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const body = (await (await fetch(`${url}/api/servers`, { headers: benchAuth })).json()) as { summary?: { available?: number } };
      if (body.summary?.available === wanted) return;
      last = JSON.stringify(body.summary);
    } catch (error) {
      last = String(error);
    }
    await sleep(100);
  }
  throw new Error(`gateway never saw ${wanted} servers available (last: ${last})`);
}

/** Drops the databases whose names start with `prefix` (the per-frontend databases of a MySQL run). */
export async function dropDatabases(prefix: string): Promise<void> {
  const mysql = await import("mysql2/promise");
  const connection = await mysql.createConnection(mysqlUrl);
  try {
    const [rows] = await connection.query("SHOW DATABASES LIKE ?", [`${prefix}%`]);
    for (const row of rows as Array<Record<string, string>>) {
      const name = Object.values(row)[0];
      if (name?.startsWith(prefix)) await connection.query(`DROP DATABASE \`${name}\``);
    }
  } finally {
    await connection.end();
  }
}
