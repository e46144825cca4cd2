import { randomBytes } from "node:crypto";

/** A file part of a multipart body. */
export interface MultipartFile {
  name: string;
  filename: string;
  contentType: string;
  bytes: Uint8Array;
}

/**
 * Encodes multipart/form-data into one buffer. Uploads carry megabytes: a FormData with a Blob
 * made undici copy the image several times and stream it in small chunks, which cost the submit
 * path more CPU than anything else the gateway does (bench/RESULTS.md); this copies it once.
 */
export function multipartBody(fields: Record<string, string>, file: MultipartFile): { body: Uint8Array<ArrayBuffer>; contentType: string } {
  const boundary = `----aipack${randomBytes(16).toString("hex")}`;
  const head: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    head.push(`--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(name)}"\r\n\r\n${value}\r\n`);
  }
  head.push(
    `--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(file.name)}"; filename="${escapeQuoted(file.filename)}"\r\n` +
      `Content-Type: ${file.contentType}\r\n\r\n`,
  );
  const body = Buffer.concat([Buffer.from(head.join("")), file.bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The escaping browsers apply to names in Content-Disposition (WHATWG HTML, multipart/form-data). */
function escapeQuoted(value: string): string {
  return value.replaceAll("\r", "%0D").replaceAll("\n", "%0A").replaceAll('"', "%22");
}
