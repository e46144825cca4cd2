import { createRoute } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { endTime, startTime, timing } from "hono/timing";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { anyCaller, apiErrors, errorResponses, frontendErrors, json } from "../lib/openapi.ts";
import { describeIssues } from "../lib/validate.ts";
import { parseBoundedForm } from "../middleware/bounded-form.ts";
import { boundUploadBody } from "../middleware/body-bounds.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { submittedTaskViewSchema } from "../views/task-view.ts";
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
});

export const idempotencyKeySchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, "1-128 letters, digits or _.:-").optional();

export interface CheckedTask {
  template: WorkflowTemplate;
  params: WorkflowParams;
  image: ImageUpload | null;
  idempotencyKey?: string;
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
  return { template, params: params.data, image, idempotencyKey: key.data };
}

/** Room for the form's other fields around the image. */
const formOverheadBytes = 256 * 1024;

/** Middleware of the submit, before its form is validated: size, timing, the bounded parse, the frontend. */
function submitMiddleware(maxUploadBytes: number) {
  return [
    // Refuse an oversized body before it is buffered and parsed.
    boundUploadBody({
      maxBytes: maxUploadBytes + formOverheadBytes,
      onError: () => {
        throw new AppError("file_too_large", `The upload is larger than ${maxUploadBytes} bytes`);
      },
    }),
    // Server-Timing shows where a submit's time goes (parse, check, user, pick, upload, prompt, store, db).
    timing({ total: true, crossOrigin: false }),
    parseSubmitForm(),
    resolveFrontend(),
  ];
}

/** Parses the multipart body within the part count and deadline (Hono caches it for the validator). */
function parseSubmitForm(): MiddlewareHandler<AppEnv> {
  return async function parseSubmitFormMiddleware(c, next) {
    const { limits } = c.get("deps");
    startTime(c, "parse");
    await parseBoundedForm(c, { maxParts: limits.maxFormFields, timeoutMs: limits.requestTimeoutMs });
    endTime(c, "parse");
    await next();
  };
}

/** The submit's form as documented: the image as a binary part. */
const submitForm = taskFormSchema.extend({
  image: taskFormSchema.shape.image.meta({ type: "string", format: "binary", description: "PNG, JPEG or WebP; required or refused as the workflow says" }),
});

/** POST /api/tasks as validated and documented: the multipart form, the Idempotency-Key header, every refusal. */
export function submitTaskRoute(maxUploadBytes: number) {
  return createRoute({
    method: "post",
    path: "/",
    tags: ["Tasks"],
    summary: "Submit a task (multipart)",
    description:
      "`params` is a JSON string checked against the workflow's parameters (`GET /api/workflows`). Answers 202 at once; " +
      "poll `GET /api/queue` or follow `/api/ws`. A retry with the same `Idempotency-Key` answers the first submit again " +
      "(header `Idempotent-Replayed: true`). 429s and `queue_full` carry `Retry-After`.",
    security: anyCaller,
    middleware: submitMiddleware(maxUploadBytes),
    request: {
      headers: z.object({ "idempotency-key": idempotencyKeySchema.meta({ description: "Makes a retried submit safe: 1-128 of A-Z a-z 0-9 _ . : -" }) }),
      body: { required: true, content: { "multipart/form-data": { schema: submitForm } } },
    },
    responses: {
      202: json(z.object({ task: submittedTaskViewSchema }), "Accepted: queued on a ComfyUI server"),
      ...errorResponses(
        ...apiErrors,
        ...frontendErrors,
        "bad_request",
        "validation_failed",
        "invalid_image",
        "comfy_validation_failed",
        "not_found",
        "request_timeout",
        "file_too_large",
        "image_too_large",
        "unsupported_media_type",
        "too_many_tasks",
        "quota_exceeded",
        "comfy_unavailable",
        "storage_unavailable",
        "queue_full",
      ),
    },
  });
}
