import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { multipartBody } from "../../src/comfy/multipart-body.ts";
import { jpegOf } from "../../test/support/image-fixtures.ts";
import { createUser } from "../lib/api.ts";
import { benchAuth } from "../lib/gateway.ts";
import { largePng } from "../lib/images.ts";
import { measureLoad } from "../lib/load.ts";
import type { Metric } from "../lib/table.ts";
import { metricsOf, withStack, type Scenario } from "./scenario.ts";

const title = "submit with limits and image checks";
const levels = [1, 16];

/** About 3 MB of scan behind a 4000×3000 header with EXIF GPS: a 12 MP phone photo's shape. */
const photoJpeg = () => new Uint8Array(jpegOf(4000, 3000, { gps: true, scanBytes: 3 * 1024 * 1024 }));

/**
 * POST /api/tasks with every abuse check on (rate budget, admission counts, pixel limit, structure
 * walk with CRCs, GPS scrub): a 1 MB PNG and a 12 MP JPEG. The limits' values are raised so that
 * none refuses; the Server-Timing `check` stage is the image checks' share.
 */
export const submitLimitsScenario: Scenario = {
  key: "submit-limits",
  title,
  run: (ctx) =>
    withStack(ctx, title, { paused: true }, async ({ gateway }) => {
      const durationSec = ctx.quick ? 2 : 6;
      const userId = await createUser(gateway.url, `bench-limits-${Date.now()}`);
      const dir = mkdtempSync(path.join(tmpdir(), "aipack-bench-limits-"));
      const m = metricsOf(title);
      const metrics: Metric[] = [];
      try {
        for (const [name, bytes, type] of [["1 MB PNG", largePng(), "image/png"], ["12 MP JPEG", photoJpeg(), "image/jpeg"]] as const) {
          const { body, contentType } = multipartBody({ frontend: "style", userId, workflow: "invert" }, { name: "image", filename: "bench.bin", contentType: type, bytes });
          const bodyFile = path.join(dir, "body.bin");
          writeFileSync(bodyFile, body);
          const base = { method: "POST" as const, paths: ["/api/tasks"], headers: { "content-type": contentType, ...benchAuth }, bodyFile, url: gateway.url };
          await measureLoad({ ...base, connections: 4, durationSec: 1 }, gateway.pid);
          for (const connections of levels) {
            ctx.log(`  ${name} c=${connections} for ${durationSec} s`);
            const run = await measureLoad({ ...base, connections, durationSec, serverTiming: true }, gateway.pid);
            const errors = run.errors + run.timeouts + run.non2xx;
            if (errors > 0) ctx.note(`${title} ${name} c=${connections}: status codes ${JSON.stringify(run.statusCodes)}`);
            metrics.push(
              m(`${name} c=${connections} throughput`, run.reqPerSec, "req/s"),
              m(`${name} c=${connections} latency p50`, run.latency.p50, "ms"),
              m(`${name} c=${connections} latency p99`, run.latency.p99, "ms"),
              m(`${name} c=${connections} errors`, errors, "count"),
              m(`${name} c=${connections} gateway CPU per request`, run.serverCpuPerRequest, "ms"),
              m(`${name} c=${connections} check stage (mean)`, run.stages.check?.mean ?? Number.NaN, "ms"),
            );
          }
        }
        return metrics;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
};
