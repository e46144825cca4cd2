import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { createUser } from "../lib/api.ts";
import { startBaseline } from "../lib/baseline.ts";
import { startFakes } from "../lib/fakes.ts";
import { benchAuth, dropDatabases, mysqlUrl, startGateway, type Gateway, type Runtime } from "../lib/gateway.ts";
import { largePng } from "../lib/images.ts";
import { measureFloor, measureLoad, type MeasuredLoad } from "../lib/load.ts";
import { ensurePeerInstalled, startPeer } from "../lib/peer.ts";
import { multipartBody } from "../../src/comfy/multipart-body.ts";
import type { Scenario } from "./scenario.ts";
import { noteErrors, renderComparison, renderStages, renderTargets, title, type Kind, type Runs, type Target } from "./submit-report.ts";

/**
 * POST /api/tasks with a 1 MB PNG at fixed concurrency against, side by side in one run: the
 * gateway on each runtime, the seed's Express design (bench/peers/express-seed, Node), a bare Hono
 * route that only parses the body (bench/baseline-server.ts, each runtime), and the floor: the same
 * upload + prompt + row insert done by a driver with no server in front (bench/drivers/floor.ts).
 * Every target is measured `rounds` times per concurrency, in alternating order (forward, then
 * backward), so that drift on a shared machine falls on every column alike. One MariaDB serves all
 * (the peer's design needs it); two paused fakes, so no job runs: the submit ends once the prompt
 * is queued, and running jobs would only add the fakes' CPU.
 */
export const submitScenario: Scenario = {
  key: "submit",
  title,
  once: true,
  run: async (ctx) => {
    const durationSec = ctx.quick ? 3 : 5;
    const rounds = 2;
    const levels = ctx.quick ? [1, 16] : [1, 16, 64];
    ensurePeerInstalled(ctx.log);
    const dir = mkdtempSync(path.join(tmpdir(), "aipack-bench-body-"));
    // Paused (no job runs) and forgetting uploads: a full run sends thousands of 1 MB images.
    const fakes = await startFakes(2, { paused: true, keepUploads: false });
    const stops: Array<() => Promise<void>> = [fakes.stop];
    try {
      const png = largePng();
      const targets: Target[] = [];
      const bodyFor = (name: string, userId: string) => {
        const { body, contentType } = multipartBody({ frontend: "style", userId, workflow: "invert" }, { name: "image", filename: "bench.png", contentType: "image/png", bytes: png });
        const bodyFile = path.join(dir, `${name}.bin`);
        writeFileSync(bodyFile, body);
        return { method: "POST" as const, paths: ["/api/tasks"], headers: { "content-type": contentType, ...benchAuth }, bodyFile };
      };
      const httpTarget = (key: string, kind: Kind, runtime: Runtime, url: string, pid: number, base: ReturnType<typeof bodyFor>): Target => ({
        key,
        kind,
        runtime,
        measure: (connections, sec) => measureLoad({ ...base, url, connections, durationSec: sec, serverTiming: kind === "gateway" }, pid),
      });
      const gateways: Gateway[] = [];
      for (const runtime of ctx.runtimes) {
        const gateway = await startGateway({ runtime, db: "mysql", comfyUrls: fakes.urls });
        gateways.push(gateway);
        stops.push(gateway.stop);
        const userId = await createUser(gateway.url, `bench-submit-${Date.now()}`);
        targets.push(httpTarget(`gateway on ${runtime}`, "gateway", runtime, gateway.url, gateway.pid, bodyFor(`gateway-${runtime}`, userId)));
      }
      const peer = await startPeer(fakes.urls[0]!);
      stops.push(peer.stop);
      targets.push(httpTarget("Express peer (node)", "peer", "node", peer.url, peer.pid, bodyFor("peer", "bench-peer-user")));
      for (const runtime of ctx.runtimes) {
        const baseline = await startBaseline(runtime);
        stops.push(baseline.stop);
        targets.push(httpTarget(`bare Hono route on ${runtime}`, "hono", runtime, baseline.url, baseline.pid, bodyFor(`hono-${runtime}`, "bench-hono-user")));
      }
      const imageFile = path.join(dir, "image.png");
      writeFileSync(imageFile, png);
      const floorDb = `aipb_${randomBytes(4).toString("hex")}_floor`;
      stops.push(() => dropDatabases(floorDb));
      targets.push({
        key: "floor (no server)",
        kind: "floor",
        runtime: "node",
        measure: (connections, sec) =>
          measureFloor({ comfyUrl: fakes.urls[0]!, databaseUrl: mysqlUrl, databaseName: floorDb, imageFile, connections, durationSec: sec, warmupSec: ctx.quick ? 0.5 : 1 }),
      });

      // A short unmeasured run of each: both runtimes JIT-compile the hot path before it counts.
      for (const target of targets) {
        ctx.log(`  warm-up ${target.key}`);
        await target.measure(4, ctx.quick ? 1 : 2);
      }
      const runs: Runs = new Map(targets.map((t) => [t.key, new Map(levels.map((c) => [c, [] as MeasuredLoad[]]))]));
      for (const c of levels) {
        for (let round = 0; round < rounds; round++) {
          const order = round % 2 === 0 ? targets : [...targets].reverse();
          for (const target of order) {
            ctx.log(`  c=${c} round ${round + 1}/${rounds} ${target.key} for ${durationSec} s`);
            runs.get(target.key)!.get(c)!.push(await target.measure(c, durationSec));
          }
        }
      }
      for (const gateway of gateways) {
        const problems = gateway.problems();
        if (problems.count > 0) ctx.note(`${title} on ${gateway.runtime}: the gateway logged ${problems.count} warn/error lines; last: ${problems.last.at(-1) ?? ""}`);
      }
      noteErrors(ctx, targets, runs, levels);
      ctx.table(renderComparison(targets, runs, levels, rounds, durationSec));
      ctx.table(renderTargets(targets, runs, levels));
      ctx.table(renderStages(targets.filter((t) => t.kind === "gateway"), runs, levels));
      return [];
    } finally {
      for (const stop of stops.reverse()) await stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
