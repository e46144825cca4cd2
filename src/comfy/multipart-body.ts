import { randomBytes } from "node:crypto";

/** A file part of a multipart body. */
export interface MultipartFile {
  name: string;
  filename: string;
  contentType: string;
  bytes: Uint8Array;
}

/** A multipart/form-data body around one file, without the file: send `head`, the bytes, then `tail`. */
export interface MultipartFrame {
  head: Buffer;
  tail: Buffer;
  contentType: string;
  /** head + file + tail, for Content-Length. */
  byteLength: number;
}

/**
 * The parts of a multipart/form-data body that surround the file, so that a transport can write
 * head, file and tail in turn (node:http corks them into one write) and never copy the image.
 */
export function multipartFrame(fields: Record<string, string>, file: Omit<MultipartFile, "bytes"> & { byteLength: number }): MultipartFrame {
  const boundary = `----aipack${randomBytes(16).toString("hex")}`;
  const head: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    head.push(`--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(name)}"\r\n\r\n${value}\r\n`);
  }
  head.push(
    `--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(file.name)}"; filename="${escapeQuoted(file.filename)}"\r\n` +
      `Content-Type: ${file.contentType}\r\n\r\n`,
  );
  const headBytes = Buffer.from(head.join(""));
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { head: headBytes, tail, contentType: `multipart/form-data; boundary=${boundary}`, byteLength: headBytes.byteLength + file.byteLength + tail.byteLength };
}

/**
 * Encodes multipart/form-data into one buffer (one copy of the file), for transports that take a
 * single body (fetch). Uploads carry megabytes: a FormData with a Blob made undici copy the image
 * several times and stream it in small chunks (bench/RESULTS.md).
 */
export function multipartBody(fields: Record<string, string>, file: MultipartFile): { body: Uint8Array<ArrayBuffer>; contentType: string } {
  const frame = multipartFrame(fields, { ...file, byteLength: file.bytes.byteLength });
  const body = Buffer.concat([frame.head, file.bytes, frame.tail], frame.byteLength);
  return { body, contentType: frame.contentType };
}

/** The escaping browsers apply to names in Content-Disposition (WHATWG HTML, multipart/form-data). */
function escapeQuoted(value: string): string {
  return value.replaceAll("\r", "%0D").replaceAll("\n", "%0A").replaceAll('"', "%22");
}
