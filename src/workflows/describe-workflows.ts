import { z } from "zod";
import type { WorkflowTemplate } from "./workflow-template.ts";

/** One parameter as `GET /api/workflows` shows it. */
export const parameterDescriptionSchema = z.object({
  name: z.string(),
  type: z.enum(["string", "integer", "number", "boolean", "enum"]),
  required: z.boolean(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  maxLength: z.number().optional(),
  values: z.array(z.string()).optional(),
  description: z.string(),
});

/** One template as `GET /api/workflows` shows it; `image` is null when it takes no upload. */
export const workflowDescriptionSchema = z.object({
  name: z.string(),
  description: z.string(),
  parameters: z.array(parameterDescriptionSchema),
  image: z.object({ required: z.boolean(), description: z.string() }).nullable(),
  requiresModels: z.array(z.string()),
  /** Server tags the template needs; a pool without such a server cannot run it. */
  requiresTags: z.array(z.string()),
});

export type ParameterDescription = z.infer<typeof parameterDescriptionSchema>;
export type WorkflowDescription = z.infer<typeof workflowDescriptionSchema>;

/** The public, JSON-able view of templates: what a frontend may send, without node ids or the prompt. */
export function describeWorkflows(templates: readonly WorkflowTemplate[]): WorkflowDescription[] {
  return templates.map((template) => ({
    name: template.name,
    description: template.description,
    parameters: Object.entries(template.parameters).flatMap(([name, parameter]): ParameterDescription[] => {
      if (parameter.type === "image") return [];
      return [
        {
          name,
          type: parameter.type,
          required: parameter.required ?? false,
          default: parameter.default,
          min: "min" in parameter ? parameter.min : undefined,
          max: "max" in parameter ? parameter.max : undefined,
          maxLength: "maxLength" in parameter ? parameter.maxLength : undefined,
          values: "values" in parameter ? [...parameter.values] : undefined,
          description: parameter.description,
        },
      ];
    }),
    image: template.image ? { required: template.image.required, description: template.image.description } : null,
    requiresModels: [...template.requiresModels],
    requiresTags: [...template.requiredTags],
  }));
}
