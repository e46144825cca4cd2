import { AppError } from "../errors/app-error.ts";

/** Why an upload was refused; more precise than the API error code, and sent in `details.reason`. */
export type UploadRejection = "missing_file" | "empty_file" | "file_too_large" | "unsupported_media_type" | "type_mismatch" | "invalid_image" | "image_too_large";

const codeOf = {
  missing_file: "validation_failed",
  empty_file: "validation_failed",
  file_too_large: "file_too_large",
  unsupported_media_type: "unsupported_media_type",
  type_mismatch: "unsupported_media_type",
  invalid_image: "invalid_image",
  image_too_large: "image_too_large",
} as const satisfies Record<UploadRejection, AppError["code"]>;

/**
 * A refused upload, ready for the error envelope: `code` and `status` follow AppError
 * (413 `file_too_large`, 415 `unsupported_media_type`, 400 `validation_failed`), and
 * `details` is `{ field, reason }` so clients can tell an empty file from a missing one.
 */
export class UploadError extends AppError {
  constructor(
    readonly reason: UploadRejection,
    readonly field: string,
    message: string,
  ) {
    super(codeOf[reason], message, { field, reason });
    this.name = "UploadError";
  }
}
