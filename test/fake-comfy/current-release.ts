/**
 * What the fake's `current` mode answers differently from 0.3.14, as recorded from ComfyUI 0.8.0
 * (test/fixtures/comfyui-0.8.0/).
 */

/** `GET /features`, and the answer to a client's `feature_flags` (the recorded server ran ComfyUI-Manager, hence `extension`). */
export function currentFeatures(): Record<string, unknown> {
  return { supports_preview_metadata: true, max_upload_size: 104_857_600, extension: { manager: { supports_v4: true } } };
}

/**
 * A `POST /prompt` 400 body as 0.8.0 words it: `node_errors` is always an object (0.3.14 sent `[]`
 * for whole-prompt errors), and a missing prompt is a typed error instead of a bare string.
 */
export function currentRejection(body: Record<string, unknown>): Record<string, unknown> {
  const nodeErrors = Array.isArray(body.node_errors) ? {} : body.node_errors;
  if (typeof body.error === "string") {
    const message = "No prompt provided";
    return { error: { type: "no_prompt", message, details: message, extra_info: {} }, node_errors: nodeErrors };
  }
  return { ...body, node_errors: nodeErrors };
}
