import { AppError } from "../errors/app-error.ts";

/** One failed input (or node-level problem) reported by ComfyUI's validation. */
export interface ComfyNodeErrorItem {
  type: string;
  message: string;
  details: string;
  inputName?: string;
}

/** Validation errors of one node, normalised from ComfyUI's `node_errors` (list or object). */
export interface ComfyNodeError {
  nodeId: string;
  classType: string | null;
  errors: ComfyNodeErrorItem[];
}

/**
 * ComfyUI rejected a prompt (HTTP 400): nothing was queued.
 * `details` (the envelope payload inherited from AppError) is `{ type, details, nodeErrors }`;
 * ComfyUI's own `error.details` string is also on `comfyDetails`.
 */
export class ComfyValidationError extends AppError {
  constructor(
    readonly type: string,
    message: string,
    readonly comfyDetails: string,
    readonly nodeErrors: ComfyNodeError[],
  ) {
    super("comfy_validation_failed", message, { type, details: comfyDetails, nodeErrors });
    this.name = "ComfyValidationError";
  }
}

/** The server could not be reached, timed out, or answered something unusable (see `cause`). */
export class ComfyUnavailableError extends AppError {
  /** The HTTP status ComfyUI answered, or null when there was no usable answer at all. */
  readonly httpStatus: number | null;

  constructor(
    message: string,
    readonly baseUrl: string,
    options: { cause?: unknown; httpStatus?: number } = {},
  ) {
    // No details: the error envelope must not leak internal server addresses.
    super("comfy_unavailable", message, undefined, { cause: options.cause });
    this.name = "ComfyUnavailableError";
    this.httpStatus = options.httpStatus ?? null;
  }
}

/** `/view` (or another lookup) answered 404. */
export class ComfyNotFoundError extends AppError {
  constructor(message: string) {
    super("not_found", message);
    this.name = "ComfyNotFoundError";
  }
}
