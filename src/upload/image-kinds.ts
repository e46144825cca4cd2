/** The image formats the gateway accepts, with what it stores them as. */
export const imageKinds = {
  png: { contentType: "image/png", extension: "png" },
  jpeg: { contentType: "image/jpeg", extension: "jpg" },
  webp: { contentType: "image/webp", extension: "webp" },
} as const;

export type ImageKind = keyof typeof imageKinds;

const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, expected: readonly number[], offset = 0): boolean {
  return expected.every((value, index) => bytes[offset + index] === value);
}

function ascii(text: string): number[] {
  return [...text].map((char) => char.charCodeAt(0));
}

/**
 * The image format told by the file's first bytes, or null when it is none we accept.
 * Only the bytes count: names and declared types come from the client and prove nothing.
 */
export function sniffImageType(bytes: Uint8Array): ImageKind | null {
  if (startsWith(bytes, pngSignature)) return "png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (bytes.length >= 12 && startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "webp";
  return null;
}

// Declared types browsers and tools send for the formats above, including old aliases.
const declaredTypes: Record<string, ImageKind> = {
  "image/png": "png",
  "image/x-png": "png",
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/pjpeg": "jpeg",
  "image/webp": "webp",
};

/**
 * What a client's declared content type says about the file: a kind, `"unknown"` when it says
 * nothing (empty or `application/octet-stream`), or null when it names a type we do not accept.
 */
export function declaredImageKind(type: string): ImageKind | "unknown" | null {
  const mediaType = type.split(";")[0]!.trim().toLowerCase();
  if (mediaType === "" || mediaType === "application/octet-stream") return "unknown";
  return declaredTypes[mediaType] ?? null;
}
