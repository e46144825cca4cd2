import { z } from "zod";
import type { ParameterBinding } from "./binding-schema.ts";
import type { WorkflowTemplate } from "./workflow-template.ts";

/** A value a caller may give a parameter. */
export type ParamValue = string | number | boolean;

/** Checked parameters, defaults applied; a name is absent when the template keeps its own value. */
export type WorkflowParams = Record<string, ParamValue | undefined>;

function valueSchema(parameter: Exclude<ParameterBinding, { type: "image" }>): z.ZodType<ParamValue> {
  switch (parameter.type) {
    case "string": {
      const base = z.string();
      return parameter.maxLength === undefined ? base : base.max(parameter.maxLength);
    }
    case "integer":
    case "number": {
      let base = parameter.type === "integer" ? z.int() : z.number();
      if (parameter.min !== undefined) base = base.min(parameter.min);
      if (parameter.max !== undefined) base = base.max(parameter.max);
      return base;
    }
    case "boolean":
      return z.boolean();
    case "enum":
      return z.enum(parameter.values as [string, ...string[]]);
  }
}

// Multipart forms carry `params` as a JSON string; a JSON body carries the object itself.
function fromJsonText(value: unknown, ctx: z.RefinementCtx): unknown {
  if (value === undefined || value === "") return {};
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    ctx.addIssue({ code: "custom", message: "params must be a JSON object", input: value });
    return z.NEVER;
  }
}

const cache = new WeakMap<WorkflowTemplate, z.ZodType<WorkflowParams>>();

/**
 * The zod schema of a template's `params`: an object, a JSON string of one, or nothing. Types are
 * exact (no "7" for 7), limits enforced, defaults applied, unknown names refused. The image
 * parameter is not part of it: the route takes the uploaded file separately.
 */
export function paramsSchema(template: WorkflowTemplate): z.ZodType<WorkflowParams> {
  const cached = cache.get(template);
  if (cached) return cached;
  const shape: Record<string, z.ZodType<ParamValue | undefined>> = {};
  for (const [name, parameter] of Object.entries(template.parameters)) {
    if (parameter.type === "image") continue;
    const value = valueSchema(parameter);
    if (parameter.required) shape[name] = value;
    else if (parameter.default !== undefined) shape[name] = value.default(parameter.default);
    else shape[name] = value.optional();
  }
  const schema = z.preprocess(fromJsonText, z.strictObject(shape));
  cache.set(template, schema);
  return schema;
}
