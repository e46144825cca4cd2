/**
 * The poll scenario alone (Node, SQLite), measured and optionally profiled, without the
 * orchestrator's tables: `npm run build && npx tsx bench/profile-poll.ts`. Env: SECONDS_MEASURED
 * (default 20), CLIENTS (1000), CRED=token (polls carry a user token instead of the admin key),
 * PROFILE_DIR (the gateway writes a .cpuprofile of the measured window there: Node refuses
 * --cpu-prof in NODE_OPTIONS, so a preload starts and stops the inspector's profiler on SIGUSR2).
 * Prints one JSON line: answered req/s, gateway CPU % of a core and ms per request, p50/p99.
 */
import path from "node:path";
import { createUser, submitTask } from "./lib/api.ts";
import { startFakes } from "./lib/fakes.ts";
import { benchAuth, startGateway } from "./lib/gateway.ts";
import { smallPng } from "./lib/images.ts";
import { measurePolling } from "./lib/load.ts";

const seconds = Number(process.env.SECONDS_MEASURED ?? 20);
const clients = Number(process.env.CLIENTS ?? 1000);
const profileDir = process.env.PROFILE_DIR;

const fakes = await startFakes(2, { nodeDelayMs: { ImageInvert: 60_000 } });
const env: Record<string, string> = profileDir ? { NODE_OPTIONS: `--import=${path.join(import.meta.dirname, "lib/cpu-profile-preload.mjs")}`, PROFILE_DIR: profileDir } : {};
const gateway = await startGateway({ runtime: "node", db: "sqlite", comfyUrls: fakes.urls, env });
try {
  const userId = await createUser(gateway.url, `bench-poll-${Date.now()}`);
  const png = smallPng();
  const taskIds: string[] = [];
  for (let i = 0; i < 6; i++) taskIds.push(await submitTask(gateway.url, userId, "invert", png));
  // The profile covers the measured window only (after the pollers' warm-up).
  const signal = () => process.kill(gateway.pid, "SIGUSR2");
  const timers = profileDir ? [setTimeout(signal, 7_000), setTimeout(signal, 5_000 + seconds * 1000)] : [];
  // CRED=token: every poll carries a user token of the tasks' owner (an HS256 verification each).
  let headers: Record<string, string> = benchAuth;
  if (process.env.CRED === "token") {
    const res = await fetch(`${gateway.url}/api/tokens`, { method: "POST", headers: { "content-type": "application/json", ...benchAuth }, body: JSON.stringify({ frontend: "style", userId }) });
    const body = (await res.json()) as { token: string };
    headers = { authorization: `Bearer ${body.token}` };
  }
  const run = await measurePolling(
    { url: gateway.url, paths: taskIds.map((id) => `/api/queue?frontend=style&taskId=${id}`), clients, intervalMs: 1_000, headers, warmupSec: 5, durationSec: seconds },
    gateway.pid,
  );
  timers.forEach(clearTimeout);
  console.log(
    JSON.stringify({
      reqPerSec: Math.round(run.reqPerSec),
      cpuPercent: Math.round(run.serverCores * 1000) / 10,
      cpuMsPerRequest: Math.round(run.serverCpuPerRequest * 1000) / 1000,
      p50: run.latency.p50,
      p99: run.latency.p99,
      errors: run.errors + run.timeouts + run.non2xx,
    }),
  );
} finally {
  await gateway.stop();
  await fakes.stop();
}
