import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Every error code the API can answer with, and its HTTP status. */
export const errorStatus = {
  bad_request: 400,
  validation_failed: 400,
  unknown_frontend: 400,
  comfy_validation_failed: 400,
  invalid_image: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  request_timeout: 408,
  conflict: 409,
  file_too_large: 413,
  image_too_large: 413,
  body_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  too_many_tasks: 429,
  quota_exceeded: 429,
  internal: 500,
  database_unavailable: 503,
  comfy_unavailable: 503,
  storage_unavailable: 503,
  queue_full: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof errorStatus;

/** An error the client is meant to see: its code, message and optional details reach the envelope. */
export class AppError extends Error {
  readonly status: ContentfulStatusCode;
  /** Sent as Retry-After (429s and 503s that know when to come back). */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds;
    this.name = "AppError";
    this.status = errorStatus[code];
  }
}

/** The one error envelope of the API. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId?: string; details?: unknown };
}
