import { crc32 } from "node:zlib";
import { scrubGpsInTiff } from "./exif-gps.ts";

/** Why a file is not a whole, well-formed image of its kind. */
export class CorruptImage extends Error {
  override name = "CorruptImage";
}

const signatureLength = 8;
const latin1 = new TextDecoder("latin1");

/**
 * Walks every PNG chunk: IHDR first, each chunk inside the file with a good CRC, IEND last.
 * A cut or damaged file is refused here rather than inside ComfyUI, after it took a queue slot.
 * Scrubs the GPS block of an eXIf chunk in place (and fixes that chunk's CRC).
 */
export function checkPng(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = signatureLength;
  let first = true;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = latin1.decode(bytes.subarray(offset + 4, offset + 8));
    const dataEnd = offset + 8 + length;
    if (length > 0x7fffffff || dataEnd + 4 > bytes.length) throw new CorruptImage(`PNG chunk ${type} runs past the end of the file`);
    if (first && type !== "IHDR") throw new CorruptImage("PNG does not start with IHDR");
    first = false;
    const typeAndData = bytes.subarray(offset + 4, dataEnd);
    if (crc32(typeAndData) !== view.getUint32(dataEnd)) throw new CorruptImage(`PNG chunk ${type} fails its CRC`);
    if (type === "eXIf" && scrubGpsInTiff(bytes.subarray(offset + 8, dataEnd))) {
      view.setUint32(dataEnd, crc32(typeAndData));
    }
    if (type === "IEND") return;
    offset = dataEnd + 4;
  }
  throw new CorruptImage("PNG has no IEND: the file is cut short");
}
