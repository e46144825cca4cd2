/**
 * `npm run demo`: a fake ComfyUI (realistic timings, previews on) and the gateway pointed at it, in
 * one process, so anyone can watch a job live at http://localhost:8388 without a GPU.
 * DEMO_COMFY_PORT (default 8189) picks the fake's port; the gateway's settings are the usual ones.
 */
import { startFakeComfy } from "../test/fake-comfy/index.ts";

const fake = await startFakeComfy({
  port: Number(process.env.DEMO_COMFY_PORT ?? 8189),
  msPerStep: 150,
  nodeDelayMs: { CheckpointLoaderSimple: 400, VAEDecode: 250, VAEEncode: 150, ImageBlur: 300, ImageInvert: 800 },
  previews: true,
});
console.log(`demo: fake ComfyUI listening on ${fake.url}`);
process.env.COMFY_SERVERS ??= `demo-gpu=${fake.url}`;
process.env.POOL_CHECK_INTERVAL_MS ??= "5000";
// The page gets its user tokens from POST /demo/login, the demo's stand-in for a frontend's
// backend (which calls POST /api/tokens with a key made in memory); only on a loopback address.
process.env.DEMO_LOGIN ??= "on";
process.env.HOST ??= "127.0.0.1";
// The gateway's own Node entry, configured by the environment set above.
await import("../src/index.ts");
