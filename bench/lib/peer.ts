import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { deferCleanup } from "./cleanup.ts";
import { dropDatabases, mysqlUrl, root } from "./gateway.ts";
import { freePort, spawnTracked, stopChild, tailOf } from "./processes.ts";

export const peerDir = path.join(root, "bench/peers/express-seed");

/** Installs the peer's own dependencies (`npm ci` in its folder) unless they are there already. */
export function ensurePeerInstalled(log: (line: string) => void): void {
  if (existsSync(path.join(peerDir, "node_modules/express/package.json"))) return;
  log("installing bench/peers/express-seed (npm ci)");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: peerDir, stdio: "inherit" });
}

/**
 * Starts the Express peer (the seed's design, bench/peers/express-seed) on plain Node against one
 * ComfyUI and a MariaDB database of its own, dropped when it stops.
 */
export async function startPeer(comfyUrl: string): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const database = `aipb_${randomBytes(4).toString("hex")}_peer`;
  const child = spawnTracked(process.execPath, [path.join(peerDir, "server.js")], {
    cwd: peerDir,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", COMFY_URL: comfyUrl, DATABASE_URL: mysqlUrl, DATABASE_NAME: database },
  });
  const tail = tailOf(child);
  const stop = deferCleanup(async () => {
    await stopChild(child);
    await dropDatabases(database);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peer did not start:\n${tail()}`)), 20_000);
      child.once("exit", (code) => reject(new Error(`peer exited with ${code}:\n${tail()}`)));
      child.stdout!.on("data", (chunk: Buffer) => {
        if (!chunk.toString().includes("peer listening")) return;
        clearTimeout(timer);
        resolve();
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop };
}
