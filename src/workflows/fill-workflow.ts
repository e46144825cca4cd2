import { randomInt } from "node:crypto";
import type { WorkflowPrompt } from "./binding-schema.ts";
import type { ParamValue, WorkflowParams } from "./params-schema.ts";
import type { WorkflowTemplate } from "./workflow-template.ts";

/** What fillWorkflow needs besides the params. */
export interface FillOptions {
  /** The uploaded image's name on the ComfyUI server (the `name` /upload/image answered). */
  image?: string;
  /** Source of seeds for an unset integer `seed` parameter; default: crypto-random in [0, 2^48). */
  randomSeed?: () => number;
}

/** The template needs an image and none was given; the route should have checked `template.image`. */
export class MissingImageError extends Error {
  override name = "MissingImageError";
}

const defaultSeed = () => randomInt(0, 2 ** 48 - 1);

/**
 * A fresh prompt for ComfyUI: a deep copy of the template with each parameter's value written to
 * its targets. `params` must come from paramsSchema(template). A parameter without a value keeps the
 * template's literal, except an integer `seed`, which gets a random one so reruns differ.
 */
export function fillWorkflow(template: WorkflowTemplate, params: WorkflowParams, options: FillOptions = {}): WorkflowPrompt {
  const prompt = structuredClone(template.prompt) as WorkflowPrompt;
  const write = (targets: ReadonlyArray<{ node: string; input: string }>, value: ParamValue) => {
    // buildTemplate checked every target exists, so a missing node here is a broken invariant.
    for (const target of targets) prompt[target.node]!.inputs[target.input] = value;
  };

  for (const [name, parameter] of Object.entries(template.parameters)) {
    if (parameter.type === "image") {
      if (options.image !== undefined) write(parameter.targets, options.image);
      else if (parameter.required ?? true) throw new MissingImageError(`${template.frontend}/${template.name} needs an image`);
      continue;
    }
    let value = params[name];
    if (value === undefined && parameter.type === "integer" && name === "seed") value = (options.randomSeed ?? defaultSeed)();
    if (value !== undefined) write(parameter.targets, value);
  }
  return prompt;
}
