// Scratch (not committed): one gateway, paused fakes, autocannon submits; prints CPU/req and stages.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createUser } from "../lib/api.ts";
import { startFakes } from "../lib/fakes.ts";
import { benchAuth, startGateway, type Runtime } from "../lib/gateway.ts";
import { largePng } from "../lib/images.ts";
import { measureLoad } from "../lib/load.ts";
import { multipartBody } from "../../src/comfy/multipart-body.ts";

const runtime = (process.argv[2] ?? "node") as Runtime;
const levels = (process.argv[3] ?? "1,16").split(",").map(Number);
const sec = Number(process.argv[4] ?? 4);
const prof = process.argv[5];
const fakes = await startFakes(2, { paused: true, keepUploads: false });
const env: Record<string, string> = !prof ? {} : runtime === "bun" ? { BUN_OPTIONS: `--cpu-prof --cpu-prof-dir=${prof}` } : { NODE_OPTIONS: "--import /tmp/ss-cpuprof.mjs", SS_PROF_DIR: prof };
const gateway = await startGateway({ runtime, db: "mysql", comfyUrls: fakes.urls, env });
try {
  const userId = await createUser(gateway.url, `prof-${Date.now()}`);
  const dir = mkdtempSync(path.join(tmpdir(), "ss-prof-"));
  const { body, contentType } = multipartBody({ frontend: "style", userId, workflow: "invert" }, { name: "image", filename: "bench.png", contentType: "image/png", bytes: largePng() });
  const bodyFile = path.join(dir, "body.bin");
  writeFileSync(bodyFile, body);
  const base = { method: "POST" as const, paths: ["/api/tasks"], headers: { "content-type": contentType, ...benchAuth }, bodyFile, url: gateway.url, serverTiming: true };
  await measureLoad({ ...base, connections: 4, durationSec: 2 }, gateway.pid);
  for (const c of levels) {
    const r = await measureLoad({ ...base, connections: c, durationSec: sec }, gateway.pid);
    const st = Object.entries(r.stages).map(([k, v]) => `${k}=${(v as { mean: number }).mean.toFixed(2)}`).join(" ");
    console.log(`${runtime} c=${c} req/s=${r.reqPerSec.toFixed(1)} p50=${r.latency.p50} cpu/req=${r.serverCpuPerRequest.toFixed(2)} non2xx=${r.non2xx} errors=${r.errors} | ${st}`);
  }
  console.log(gateway.problems());
} finally {
  await gateway.stop();
  await fakes.stop();
}
