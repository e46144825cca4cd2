import { z } from "zod";

/** One place a parameter's value goes: an input of a node in the API-format workflow. */
export const targetSchema = z.strictObject({
  node: z.string().min(1),
  input: z.string().min(1),
});

const common = {
  description: z.string().min(1),
  /** The caller must supply it; a required parameter has no default. */
  required: z.boolean().optional(),
  targets: z.array(targetSchema).min(1),
};

const imageParameter = z.strictObject({ type: z.literal("image"), ...common });
const stringParameter = z.strictObject({
  type: z.literal("string"),
  ...common,
  default: z.string().optional(),
  maxLength: z.int().positive().optional(),
});
const integerParameter = z.strictObject({
  type: z.literal("integer"),
  ...common,
  default: z.int().optional(),
  min: z.int().optional(),
  max: z.int().optional(),
});
const numberParameter = z.strictObject({
  type: z.literal("number"),
  ...common,
  default: z.number().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
});
const booleanParameter = z.strictObject({ type: z.literal("boolean"), ...common, default: z.boolean().optional() });
const enumParameter = z.strictObject({
  type: z.literal("enum"),
  ...common,
  values: z.array(z.string().min(1)).min(1),
  default: z.string().optional(),
});

// Checks that need more than one field; the default must obey the same rules as a caller's value.
function checkParameter(parameter: z.infer<typeof parameterUnion>, ctx: z.RefinementCtx): void {
  const issue = (message: string, field: string) => ctx.addIssue({ code: "custom", message, path: [field] });
  const fallback = "default" in parameter ? parameter.default : undefined;
  if (parameter.required && fallback !== undefined) issue("a required parameter cannot have a default", "default");
  if (parameter.type === "integer" || parameter.type === "number") {
    const { min, max } = parameter;
    if (min !== undefined && max !== undefined && min > max) issue(`min ${min} is above max ${max}`, "min");
    if (fallback !== undefined && min !== undefined && (fallback as number) < min) issue(`default is below min ${min}`, "default");
    if (fallback !== undefined && max !== undefined && (fallback as number) > max) issue(`default is above max ${max}`, "default");
  }
  if (parameter.type === "string" && parameter.default !== undefined && parameter.maxLength !== undefined) {
    if (parameter.default.length > parameter.maxLength) issue(`default is longer than maxLength ${parameter.maxLength}`, "default");
  }
  if (parameter.type === "enum" && parameter.default !== undefined && !parameter.values.includes(parameter.default)) {
    issue(`default "${parameter.default}" is not one of values`, "default");
  }
}

const parameterUnion = z.discriminatedUnion("type", [
  imageParameter,
  stringParameter,
  integerParameter,
  numberParameter,
  booleanParameter,
  enumParameter,
]);

/** A parameter of a template: its type, limits, default and the node inputs it sets. */
export const parameterSchema = parameterUnion.superRefine(checkParameter);

export type ParameterBinding = z.infer<typeof parameterSchema>;
export type ParameterType = ParameterBinding["type"];

/** `<name>.binding.json`: what a caller may set in `<name>.json` and which nodes give the results. */
export const bindingSchema = z
  .strictObject({
    description: z.string().min(1),
    parameters: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, "lowercase letters, digits and _"), parameterSchema).default({}),
    /** Node ids whose images are the results (SaveImage nodes). */
    outputs: z.array(z.string().min(1)).min(1),
    /** Model files (checkpoint names) the servers must have, e.g. `v1-5-pruned-emaonly.safetensors`. */
    requiresModels: z.array(z.string().min(1)).default([]),
    /** Server tags (`COMFY_SERVERS ...;tags=a|b`) a server must all have to run this template. */
    requiresTags: z.array(z.string().min(1)).default([]),
  })
  .superRefine((binding, ctx) => {
    // The route takes a single uploaded file, so a template can have at most one image parameter.
    const images = Object.entries(binding.parameters).filter(([, parameter]) => parameter.type === "image");
    if (images.length > 1) {
      ctx.addIssue({ code: "custom", message: "at most one image parameter", path: ["parameters", images[1]![0]] });
    }
  });

export type WorkflowBinding = z.infer<typeof bindingSchema>;

/** A ComfyUI node in API format; `_meta` and other editor extras are kept as they are. */
export const workflowNodeSchema = z.looseObject({
  class_type: z.string().min(1),
  inputs: z.record(z.string(), z.unknown()),
});

/** `<name>.json`: a workflow in ComfyUI's API format, `{ "<node id>": { class_type, inputs } }`. */
export const workflowPromptSchema = z
  .record(z.string().min(1), workflowNodeSchema)
  .refine((prompt) => Object.keys(prompt).length > 0, "a workflow needs at least one node");

export type WorkflowNode = z.infer<typeof workflowNodeSchema>;
export type WorkflowPrompt = z.infer<typeof workflowPromptSchema>;
