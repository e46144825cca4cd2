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
  // PORT=0: the process binds a free port itself and names it in its listening line; its file URLs
  // are made from that port (no PUBLIC_BASE_URL), so no other process can take it in between.
  const base = { PORT: "0", HOST: "127.0.0.1", ADMIN_KEY: testAdminKey };
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
