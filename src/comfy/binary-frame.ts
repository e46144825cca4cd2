/** A preview image decoded from a binary frame (event type 1). */
export interface PreviewFrame {
  format: "jpeg" | "png";
  bytes: Uint8Array;
}

const PREVIEW_IMAGE = 1;
const formats: Record<number, PreviewFrame["format"]> = { 1: "jpeg", 2: "png" };

/**
 * Decodes a binary frame: 4-byte big-endian event type, then for previews a 4-byte big-endian
 * image format and the image bytes. Any other event type (or format) is skipped: returns null.
 */
export function decodeBinaryFrame(frame: Uint8Array): PreviewFrame | null {
  if (frame.byteLength < 8) return null;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0) !== PREVIEW_IMAGE) return null;
  const format = formats[view.getUint32(4)];
  if (format === undefined) return null;
  return { format, bytes: frame.slice(8) };
}

/** Builds a preview frame (used by the fake server and tests). */
export function encodePreviewFrame(format: PreviewFrame["format"], bytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(8 + bytes.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint32(0, PREVIEW_IMAGE);
  view.setUint32(4, format === "jpeg" ? 1 : 2);
  frame.set(bytes, 8);
  return frame;
}
