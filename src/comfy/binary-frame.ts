/**
 * A preview image decoded from a binary frame: event 1 (format word, then the image), or event 4
 * (current releases, to clients that sent `feature_flags`), whose metadata names its prompt.
 */
export interface PreviewFrame {
  format: "jpeg" | "png";
  bytes: Uint8Array;
  /** From event 4's metadata; undefined for event 1, which says nothing about its prompt. */
  promptId?: string;
}

/** What event 4 carries before the image (the fields ComfyUI 0.8.0 was recorded sending). */
export interface PreviewMetadata {
  node_id: string;
  prompt_id: string;
  display_node_id: string;
  parent_node_id: string | null;
  real_node_id: string;
  image_type: string;
}

const PREVIEW_IMAGE = 1;
const PREVIEW_IMAGE_WITH_METADATA = 4;
const formats: Record<number, PreviewFrame["format"]> = { 1: "jpeg", 2: "png" };
const mediaTypes: Record<string, PreviewFrame["format"]> = { "image/jpeg": "jpeg", "image/png": "png" };

/**
 * Decodes a binary frame: a 4-byte big-endian event type, then for event 1 a 4-byte image format
 * and the image, for event 4 a 4-byte metadata length, the metadata JSON and the image. Any other
 * event type, format or unreadable metadata is skipped: returns null.
 */
export function decodeBinaryFrame(frame: Uint8Array): PreviewFrame | null {
  if (frame.byteLength < 8) return null;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const event = view.getUint32(0);
  if (event === PREVIEW_IMAGE) {
    const format = formats[view.getUint32(4)];
    return format === undefined ? null : { format, bytes: frame.slice(8) };
  }
  if (event !== PREVIEW_IMAGE_WITH_METADATA) return null;
  const end = 8 + view.getUint32(4);
  if (end > frame.byteLength) return null;
  const metadata = parseMetadata(frame.subarray(8, end));
  const format = metadata === null ? undefined : mediaTypes[metadata.imageType];
  if (metadata === null || format === undefined) return null;
  return { format, bytes: frame.slice(end), promptId: metadata.promptId };
}

function parseMetadata(bytes: Uint8Array): { promptId: string; imageType: string } | null {
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof json !== "object" || json === null) return null;
    const { prompt_id: promptId, image_type: imageType } = json as Record<string, unknown>;
    return typeof promptId === "string" && typeof imageType === "string" ? { promptId, imageType } : null;
  } catch {
    return null;
  }
}

/** Builds an event 1 preview frame (used by the fake server and tests). */
export function encodePreviewFrame(format: PreviewFrame["format"], bytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(8 + bytes.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint32(0, PREVIEW_IMAGE);
  view.setUint32(4, format === "jpeg" ? 1 : 2);
  frame.set(bytes, 8);
  return frame;
}

/** Builds an event 4 preview frame with its metadata (used by the fake server and tests). */
export function encodeMetadataPreviewFrame(metadata: PreviewMetadata, bytes: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(metadata));
  const frame = new Uint8Array(8 + json.byteLength + bytes.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint32(0, PREVIEW_IMAGE_WITH_METADATA);
  view.setUint32(4, json.byteLength);
  frame.set(json, 8);
  frame.set(bytes, 8 + json.byteLength);
  return frame;
}
