import { z } from "zod";
import { checkDecodedImage } from "./image-decoded.ts";
import { declaredImageKind, imageKinds, sniffImageType, type ImageKind } from "./image-kinds.ts";
import { UploadError, type UploadRejection } from "./upload-error.ts";

/** Limits of one image field. */
export interface ImageFileOptions {
  /** Largest accepted file, in bytes (MAX_UPLOAD_BYTES). */
  maxBytes: number;
  /** Largest accepted width × height (MAX_IMAGE_PIXELS); unset: 25 MP. */
  maxPixels?: number;
}

/** A checked upload: the bytes read once, and the format they really are. */
export interface ImageUpload {
  file: Blob;
  bytes: Uint8Array;
  kind: ImageKind;
  /** From the sniffed kind, never from the client. */
  contentType: (typeof imageKinds)[ImageKind]["contentType"];
  extension: (typeof imageKinds)[ImageKind]["extension"];
  width: number;
  height: number;
}

/** The default pixel limit: a 25 MP photo is more than any workflow here needs. */
export const defaultMaxImagePixels = 25_000_000;

/** The `params` every issue of imageFileSchema carries, so a caller can map it to a status. */
export interface ImageIssueParams {
  reason: UploadRejection;
}

function formatLimit(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.floor((bytes / 1024 / 1024) * 10) / 10} MB` : `${bytes} bytes`;
}

/**
 * A zod schema for a multipart image field (the value `c.req.parseBody()` gives: a File, a string,
 * an array or nothing). It checks the size from `file.size` before reading anything, then reads the
 * bytes once and trusts only their magic number. Every issue carries `params: { reason }`
 * (ImageIssueParams); parse it with `safeParseAsync`, or use parseImageUpload to get an UploadError.
 */
export function imageFileSchema(options: ImageFileOptions) {
  return z.unknown().transform(async (value, ctx): Promise<ImageUpload> => {
    const refuse = (reason: UploadRejection, message: string) => {
      ctx.addIssue({ code: "custom", message, input: value, params: { reason } satisfies ImageIssueParams });
      return z.NEVER;
    };
    if (!(value instanceof Blob)) return refuse("missing_file", "expected one image file");
    if (value.size === 0) return refuse("empty_file", "the file is empty");
    if (value.size > options.maxBytes) {
      return refuse("file_too_large", `the file is larger than ${formatLimit(options.maxBytes)}`);
    }
    const declared = declaredImageKind(value.type);
    if (declared === null) return refuse("unsupported_media_type", "only PNG, JPEG and WebP images are accepted");

    const bytes = new Uint8Array(await value.arrayBuffer());
    // A Blob's size is what it holds, but a stream-backed one could grow: judge what was read.
    if (bytes.byteLength > options.maxBytes) {
      return refuse("file_too_large", `the file is larger than ${formatLimit(options.maxBytes)}`);
    }
    const kind = sniffImageType(bytes);
    if (kind === null) return refuse("unsupported_media_type", "the file is not a PNG, JPEG or WebP image");
    if (declared !== "unknown" && declared !== kind) {
      return refuse("type_mismatch", `the file is declared as ${value.type} but its content is ${kind}`);
    }
    const decoded = checkDecodedImage(bytes, kind, options.maxPixels ?? defaultMaxImagePixels);
    if (!decoded.ok) return refuse(decoded.reason, decoded.message);
    return { file: value, bytes, kind, ...imageKinds[kind], width: decoded.width, height: decoded.height };
  });
}

/** The UploadError for the first issue of a failed imageFileSchema parse. */
export function uploadErrorFrom(error: z.ZodError, field: string): UploadError {
  const issue = error.issues[0];
  const params = issue?.code === "custom" ? (issue.params as Partial<ImageIssueParams> | undefined) : undefined;
  return new UploadError(params?.reason ?? "missing_file", field, `${field}: ${issue?.message ?? "invalid file"}`);
}

/**
 * Checks a multipart image field and returns the upload, or throws UploadError
 * (413 `file_too_large` / `image_too_large`, 415 `unsupported_media_type`, 400 `validation_failed` /
 * `invalid_image`).
 */
export async function parseImageUpload(value: unknown, options: ImageFileOptions & { field?: string }): Promise<ImageUpload> {
  const field = options.field ?? "image";
  const result = await imageFileSchema(options).safeParseAsync(value);
  if (!result.success) throw uploadErrorFrom(result.error, field);
  return result.data;
}
