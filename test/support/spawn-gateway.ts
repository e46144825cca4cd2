import net, { type AddressInfo } from "node:net";
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { onTestFinished } from "vitest";
import { relaxedLimitsEnv } from "./relaxed-limits.ts";
import { testAdminKey, useDefaultCredential } from "./credentials.ts";

export type Runtime = "node" | "bun";

const root = path.resolve(import.meta.dirname, "../..");
const commands: Record<Runtime, [string, string[]]> = {
  // Node itself with tsx as a loader, not the tsx CLI (which runs node as its child): a signal,
  // SIGKILL included, must reach the gateway and not a wrapper.
  node: [process.execPath, ["--import", "tsx", "src/index.ts"]],
  bun: [path.join(root, "node_modules/.bin/bun"), ["src/index.bun.ts"]],
};

export interface SpawnedGateway {
  url: string;
  port: number;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the real gateway process on a random port and waits for its "listening" line. */
export async function spawnGateway(runtime: Runtime, env: Record<string, string>): Promise<SpawnedGateway> {
  const [command, args] = commands[runtime];
  // A known port, so PUBLIC_BASE_URL (and the file URLs made from it) name where it listens.
  const free = await freePort();
  const base = { PORT: String(free), PUBLIC_BASE_URL: `http://127.0.0.1:${free}`, HOST: "127.0.0.1", ADMIN_KEY: testAdminKey };
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...relaxedLimitsEnv, ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${runtime} gateway did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split("\n").find((text) => text.includes('"message":"aipack listening"'));
      const match = line ? /"port":(\d+)/.exec(line) : null;
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => reject(new Error(`${runtime} gateway exited with ${code}:\n${output}`)));
  });
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null) child.kill(signal);
    return exited;
  };
  onTestFinished(async () => {
    await stop("SIGKILL");
  });
  useDefaultCredential(`http://127.0.0.1:${port}`);
  return { url: `http://127.0.0.1:${port}`, port, child, output: () => output, stop };
}

/**
 * A port free right now, for a spawned gateway whose PUBLIC_BASE_URL must name its port before it
 * starts (the process binds it a moment later; in-process servers bind port 0 themselves instead).
 */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
