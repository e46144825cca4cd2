import { describe, expect, it } from "vitest";
import { fillWorkflow, MissingImageError } from "./fill-workflow.ts";
import { paramsSchema } from "./params-schema.ts";
import { sampleBinding, samplePrompt, sampleTemplate } from "./test-templates.ts";

describe("fillWorkflow", () => {
  it("writes every value to its target and the image name to LoadImage", () => {
    const template = sampleTemplate();
    const params = paramsSchema(template).parse({ label: "hi", sigma: 2.5, seed: 42, sharp: false });
    const prompt = fillWorkflow(template, params, { image: "upload (1).png" });
    expect(prompt["1"]!.inputs.image).toBe("upload (1).png");
    expect(prompt["2"]!.inputs).toEqual({ image: ["1", 0], radius: 4, sigma: 2.5, label: "hi", sharp: false, mode: "hard", seed: 42 });
    expect(prompt["3"]).toEqual(samplePrompt()["3"]);
  });

  it("gives an unset seed a random integer, different between calls", () => {
    const template = sampleTemplate();
    const params = paramsSchema(template).parse({ label: "hi" });
    expect(fillWorkflow(template, params, { image: "a.png", randomSeed: () => 777 })["2"]!.inputs.seed).toBe(777);
    const seeds = new Set(Array.from({ length: 5 }, () => fillWorkflow(template, params, { image: "a.png" })["2"]!.inputs.seed));
    expect(seeds.size).toBeGreaterThan(1);
    for (const seed of seeds) expect(Number.isSafeInteger(seed)).toBe(true);
  });

  it("keeps the template's literal for an optional parameter without a value", () => {
    const template = sampleTemplate();
    const prompt = fillWorkflow(template, paramsSchema(template).parse({ label: "x" }), { image: "a.png" });
    expect(prompt["2"]!.inputs.sigma).toBe(1.5);
  });

  it("never mutates the template, and copies are independent", () => {
    const template = sampleTemplate();
    const before = structuredClone(template.prompt);
    const first = fillWorkflow(template, paramsSchema(template).parse({ label: "a", radius: 9 }), { image: "a.png" });
    first["2"]!.inputs.radius = 30;
    (first["2"]!.inputs.image as unknown[])[0] = "x";
    const second = fillWorkflow(template, paramsSchema(template).parse({ label: "b" }), { image: "b.png" });
    expect(template.prompt).toEqual(before);
    expect(Object.isFrozen(template.prompt["2"]!.inputs)).toBe(true);
    expect(second["2"]!.inputs).toMatchObject({ radius: 4, label: "b", image: ["1", 0] });
  });

  it("refuses to fill a template that requires an image without one", () => {
    const template = sampleTemplate();
    expect(() => fillWorkflow(template, paramsSchema(template).parse({ label: "x" }))).toThrow(MissingImageError);
  });

  it("keeps the template's image when an optional image is not given", () => {
    const binding = sampleBinding();
    const parameters = binding.parameters as Record<string, Record<string, unknown>>;
    parameters.image = { ...parameters.image, required: false };
    const template = sampleTemplate(binding);
    expect(template.image).toMatchObject({ required: false });
    expect(fillWorkflow(template, paramsSchema(template).parse({ label: "x" }))["1"]!.inputs.image).toBe("input.png");
  });
});
