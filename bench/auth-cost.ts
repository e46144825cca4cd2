/**
 * `npx tsx bench/auth-cost.ts`: what authentication adds to the submit and poll paths, in process
 * (no network, so the difference is not lost in noise). Times, on fresh SQLite databases:
 *  - Authenticator.authenticate() alone for a frontend key (a hash and a cached row) and a user
 *    token (an HS256 verification);
 *  - GET /api/queue (the poll) through the whole app with AUTH=off, a frontend key and a user token.
 * The submit path pays the same authenticate() once per request.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createApp } from "../src/app.ts";
import { createFrontendKey } from "../src/auth/key-admin.ts";
import { loadConfig } from "../src/config/config.ts";
import { knownFrontends } from "../src/controllers/db-controller-map.ts";
import { memoryLogger } from "../src/lib/logger.ts";
import { buildDeps } from "../src/server/build-deps.ts";

const rounds = Number(process.env.ROUNDS ?? 20_000);

type Work = () => unknown;

/** µs per call: the best of five interleaved passes, so a busy neighbour's burst skews no one case. */
async function timeAll(cases: Array<[string, Work]>): Promise<Map<string, number>> {
  const best = new Map<string, number>();
  for (const [, work] of cases) for (let i = 0; i < 2_000; i++) await work(); // warm-up: JIT, caches, prepared statements
  for (let pass = 0; pass < 5; pass++) {
    for (const [label, work] of cases) {
      const started = performance.now();
      for (let i = 0; i < rounds / 5; i++) await work();
      const micros = ((performance.now() - started) * 1000) / (rounds / 5);
      best.set(label, Math.min(best.get(label) ?? Infinity, micros));
    }
  }
  for (const [label, micros] of best) console.log(`${label.padEnd(36)} ${micros.toFixed(1).padStart(8)} µs`);
  return best;
}

async function gateway(auth: "on" | "off") {
  const dir = mkdtempSync(path.join(tmpdir(), "aipack-auth-bench-"));
  const config = loadConfig({ DATA_DIR: dir, AUTH: auth, HOST: "127.0.0.1", COMFY_SERVERS: "http://127.0.0.1:9" }, knownFrontends);
  const built = await buildDeps(config, { logger: memoryLogger() });
  const style = built.deps.controllers.get("style")!;
  await style.ready();
  const user = await style.upsertUser({ externalId: "bench" });
  // A finished task: the poll answers from the row, without asking ComfyUI.
  const task = await style.createTask({ userId: user.id, workflow: "invert", params: {}, status: "succeeded", outputUrls: [] });
  const close = async () => {
    await built.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { app: createApp(built.deps), deps: built.deps, style, user, task, close };
}

const on = await gateway("on");
const off = await gateway("off");
const key = (await createFrontendKey(on.style, "bench")).key;
const token = (await on.deps.auth!.mintUserToken("style", on.user.id, 3600)).token;
const auth = on.deps.auth!;

console.log(`node ${process.version}, ${rounds} rounds each\n`);
const poll = (g: typeof on, headers: Record<string, string>) => () => g.app.request(`/api/queue?frontend=style&taskId=${g.task.id}`, { headers });
for (const [g, h] of [[off, {}], [on, { authorization: `Bearer ${key}` }], [on, { authorization: `Bearer ${token}` }]] as const) {
  const answer = await poll(g, h)();
  if (answer.status !== 200) throw new Error(`poll answered ${answer.status}: ${await answer.text()}`);
}
const t = await timeAll([
  ["authenticate(frontend key)", () => auth.authenticate(key)],
  ["authenticate(user token)", () => auth.authenticate(token)],
  ["GET /api/queue, AUTH=off", poll(off, {})],
  ["GET /api/queue, frontend key", poll(on, { authorization: `Bearer ${key}` })],
  ["GET /api/queue, user token", poll(on, { authorization: `Bearer ${token}` })],
]);
const base = t.get("GET /api/queue, AUTH=off")!;
const extra = (label: string) => (t.get(label)! - base).toFixed(1);
console.log(`\nauth on the poll: +${extra("GET /api/queue, frontend key")} µs with a key, +${extra("GET /api/queue, user token")} µs with a token`);
await on.close();
await off.close();
