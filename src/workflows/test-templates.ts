import type { WorkflowBinding, WorkflowPrompt } from "./binding-schema.ts";
import { bindingSchema } from "./binding-schema.ts";
import { buildTemplate, type WorkflowTemplate } from "./workflow-template.ts";

/** Test fixture: a blur-like workflow with one parameter of every type. */
export function samplePrompt(): WorkflowPrompt {
  return {
    "1": { class_type: "LoadImage", inputs: { image: "input.png" } },
    "2": {
      class_type: "Styler",
      inputs: { image: ["1", 0], radius: 4, sigma: 1.5, label: "none", sharp: false, mode: "soft", seed: 0 },
    },
    "3": { class_type: "SaveImage", inputs: { images: ["2", 0], filename_prefix: "aipack_test_sample" } },
  };
}

/** Test fixture: the binding of samplePrompt, as it would be written in JSON. */
export function sampleBinding(): Record<string, unknown> {
  return {
    description: "sample",
    parameters: {
      image: { type: "image", required: true, description: "input", targets: [{ node: "1", input: "image" }] },
      radius: { type: "integer", default: 4, min: 1, max: 31, description: "r", targets: [{ node: "2", input: "radius" }] },
      sigma: { type: "number", min: 0.1, max: 10, description: "s", targets: [{ node: "2", input: "sigma" }] },
      label: { type: "string", required: true, maxLength: 5, description: "l", targets: [{ node: "2", input: "label" }] },
      sharp: { type: "boolean", default: true, description: "b", targets: [{ node: "2", input: "sharp" }] },
      mode: { type: "enum", values: ["soft", "hard"], default: "hard", description: "m", targets: [{ node: "2", input: "mode" }] },
      seed: { type: "integer", min: 0, max: 1000, description: "seed", targets: [{ node: "2", input: "seed" }] },
    },
    outputs: ["3"],
  };
}

/** Test fixture: samplePrompt and sampleBinding checked into a template. */
export function sampleTemplate(binding: Record<string, unknown> = sampleBinding()): WorkflowTemplate {
  return buildTemplate({
    frontend: "test",
    name: "sample",
    file: "sample.binding.json",
    prompt: samplePrompt(),
    binding: bindingSchema.parse(binding) as WorkflowBinding,
  });
}
