import type { z } from "zod";
import { ComfyValidationError, type ComfyNodeError } from "./errors.ts";
import { nodeErrorsSchema, promptErrorBodySchema } from "./schemas.ts";

/**
 * Turns a `POST /prompt` 400 body into a ComfyValidationError, whatever its shape:
 * `error` as string or object, `node_errors` as `[]` or an object keyed by node id.
 * Returns null when the body is not a recognisable validation answer.
 */
export function toValidationError(body: unknown): ComfyValidationError | null {
  const parsed = promptErrorBodySchema.safeParse(body);
  if (!parsed.success) return null;
  const { error } = parsed.data;
  const nodeErrors = normaliseNodeErrors(parsed.data.node_errors);
  if (typeof error === "string") return new ComfyValidationError(error, error, "", nodeErrors);
  return new ComfyValidationError(error.type, error.message || error.type, error.details, nodeErrors);
}

function normaliseNodeErrors(raw: z.infer<typeof nodeErrorsSchema> | undefined): ComfyNodeError[] {
  // The list form only ever appears empty in practice; its items carry no node id to keep.
  if (raw === undefined || Array.isArray(raw)) return [];
  return Object.entries(raw).map(([nodeId, node]) => ({
    nodeId,
    classType: node.class_type ?? null,
    errors: node.errors.map((e) => ({
      type: e.type,
      message: e.message,
      details: e.details,
      ...(e.extra_info?.input_name === undefined ? {} : { inputName: e.extra_info.input_name }),
    })),
  }));
}
