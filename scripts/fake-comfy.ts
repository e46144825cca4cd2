/**
 * Dev tool: a fake ComfyUI with realistic timings for running the gateway without a GPU.
 * `PORT` (default 8188), `FAKE_COMFY_VERSION` (`0.3.14` | `current`), `FAKE_COMFY_PREVIEWS=1`.
 */
import { startFakeComfy } from "../test/fake-comfy/index.ts";

const port = Number(process.env.PORT ?? 8188);
const version = process.env.FAKE_COMFY_VERSION === "current" ? "current" : "0.3.14";
const fake = await startFakeComfy({
  port,
  version,
  msPerStep: 150,
  nodeDelayMs: { CheckpointLoaderSimple: 400, VAEDecode: 250, VAEEncode: 150, ImageBlur: 300 },
  previews: process.env.FAKE_COMFY_PREVIEWS === "1",
});
console.log(`fake ComfyUI ${version} listening on ${fake.url}`);

const shutdown = () => {
  void fake.stop().then(() => process.exit(0));
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
