import { describe, expect, it } from "vitest";
import { comboChoices } from "./object-info.ts";
import { objectInfoSchema } from "./schemas.ts";

describe("comboChoices", () => {
  it("reads both combo forms, required and optional, and ignores every other input", () => {
    const info = objectInfoSchema.parse({
      CheckpointLoaderSimple: { input: { required: { ckpt_name: [["sd15.safetensors", "sdxl.safetensors"], { tooltip: "x" }] } } },
      LoraLoader: { input: { required: { lora_name: ["COMBO", { options: ["ink.safetensors"] }], strength: ["FLOAT", { default: 1 }] } } },
      KSampler: { input: { required: { model: ["MODEL"], steps: ["INT", { default: 20 }] }, optional: { sampler_name: [["euler"]] } } },
      Odd: { input: { required: { weird: "not a spec", empty: [] } } },
      NoInputs: {},
    });
    expect([...comboChoices(info)].sort()).toEqual(["euler", "ink.safetensors", "sd15.safetensors", "sdxl.safetensors"]);
  });
});
