// Only types the gateway itself writes; anything else is served as an opaque download.
const contentTypes: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  json: "application/json",
};

/** The content type for a file extension (without the dot); `application/octet-stream` when unknown. */
export function contentTypeForExtension(extension: string): string {
  return contentTypes[extension.toLowerCase()] ?? "application/octet-stream";
}
