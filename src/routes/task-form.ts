import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { describeIssues } from "../lib/validate.ts";
import { lengths } from "../schema/columns.ts";
import { parseImageUpload, type ImageUpload } from "../upload/index.ts";
import { paramsSchema, type WorkflowParams, type WorkflowTemplate } from "../workflows/index.ts";

/** The multipart fields of POST /api/tasks; every value arrives as a string (or a File). */
export const taskFormSchema = z.object({
  frontend: z.string(),
  /** Required with a frontend key; with a user token it may be left out (the token's user). */
  userId: z.string().min(1).max(lengths.id).optional(),
  workflow: z.string().min(1).max(lengths.workflow),
  params: z.string().max(64 * 1024).optional(),
  image: z.unknown().optional(),
  /** Orders this frontend's own waiting tasks (higher first); a frontend key's, never a user token's. */
  priority: z.coerce.number().int().min(-100).max(100).optional(),
});

export const idempotencyKeySchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, "1-128 letters, digits or _.:-").optional();

export interface CheckedTask {
  template: WorkflowTemplate;
  params: WorkflowParams;
  image: ImageUpload | null;
  idempotencyKey?: string;
  priority: number;
}

/** Everything about a submit that can be checked before touching ComfyUI, storage or the database. */
export async function checkTask(c: Context<AppEnv>, form: z.infer<typeof taskFormSchema>): Promise<CheckedTask> {
  const { workflows, maxUploadBytes, limits } = c.get("deps");
  const frontend = c.get("frontend");
  const key = idempotencyKeySchema.safeParse(c.req.header("idempotency-key"));
  if (!key.success) throw new AppError("validation_failed", `Idempotency-Key: ${describeIssues(key.error.issues)}`);
  const template = workflows.get(frontend, form.workflow);
  if (!template) {
    const known = workflows.list(frontend).map((t) => t.name).join(", ");
    throw new AppError("validation_failed", `workflow: ${frontend} has no workflow "${form.workflow.slice(0, 64)}"; one of: ${known}`);
  }
  const params = paramsSchema(template).safeParse(form.params);
  if (!params.success) throw new AppError("validation_failed", `params: ${describeIssues(params.error.issues)}`);
  const given = form.image !== undefined && form.image !== "";
  if (!template.image && given) throw new AppError("validation_failed", `image: workflow "${template.name}" takes no image`);
  if (template.image?.required && !given) throw new AppError("validation_failed", `image: workflow "${template.name}" needs an image file`);
  const image = given ? await parseImageUpload(form.image, { maxBytes: maxUploadBytes, maxPixels: limits.maxImagePixels, field: "image" }) : null;
  return { template, params: params.data, image, idempotencyKey: key.data, priority: form.priority ?? 0 };
}
