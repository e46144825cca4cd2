import { imageSize } from "image-size";
import type { ImageKind } from "./image-kinds.ts";
import { checkJpeg } from "./jpeg-structure.ts";
import { checkPng, CorruptImage } from "./png-structure.ts";
import { checkWebp } from "./webp-structure.ts";

/** What a file decodes to, judged from its headers and structure without decoding the pixels. */
export type DecodedCheck =
  | { ok: true; width: number; height: number }
  | { ok: false; reason: "invalid_image" | "image_too_large"; message: string };

const checkers: Record<ImageKind, (bytes: Uint8Array) => void> = { png: checkPng, jpeg: checkJpeg, webp: checkWebp };

function dimensions(bytes: Uint8Array): { width: number; height: number } | null {
  try {
    const size = imageSize(bytes);
    return size.width && size.height ? { width: size.width, height: size.height } : null;
  } catch {
    return null;
  }
}

/**
 * Reads the real dimensions from the header (image-size: PNG IHDR, JPEG SOFn, WebP VP8/VP8L/VP8X)
 * and refuses more than `maxPixels` before anything decodes them (a 420 KB PNG can hold 432 MB of
 * pixels), then walks the file's structure so a cut or damaged file never takes a GPU's queue slot.
 * Scrubs EXIF GPS and XMP from `bytes` in place, so what is stored and forwarded has no location.
 */
export function checkDecodedImage(bytes: Uint8Array, kind: ImageKind, maxPixels: number): DecodedCheck {
  const size = dimensions(bytes);
  if (!size) return { ok: false, reason: "invalid_image", message: `the ${kind} header has no readable dimensions` };
  if (size.width * size.height > maxPixels) {
    const mp = (n: number) => `${Math.round(n / 100_000) / 10} MP`;
    return { ok: false, reason: "image_too_large", message: `the image is ${size.width}×${size.height} (${mp(size.width * size.height)}); at most ${mp(maxPixels)} is accepted` };
  }
  try {
    checkers[kind](bytes);
  } catch (error) {
    if (!(error instanceof CorruptImage)) throw error;
    return { ok: false, reason: "invalid_image", message: error.message };
  }
  return { ok: true, ...size };
}
