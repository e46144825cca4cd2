import { scrubGpsInTiff } from "./exif-gps.ts";
import { CorruptImage } from "./png-structure.ts";

const latin1 = new TextDecoder("latin1");
const imageChunks = new Set(["VP8 ", "VP8L", "ANMF"]);

/**
 * Checks that the RIFF container holds the whole file it declares and that every chunk fits in it,
 * with image data present. Scrubs GPS in an EXIF chunk and blanks an XMP chunk, in place.
 */
export function checkWebp(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const riffEnd = 8 + view.getUint32(4, true);
  if (riffEnd > bytes.length) throw new CorruptImage("WebP is shorter than its RIFF header says: the file is cut short");
  let offset = 12;
  let hasImage = false;
  while (offset + 8 <= riffEnd) {
    const type = latin1.decode(bytes.subarray(offset, offset + 4));
    const size = view.getUint32(offset + 4, true);
    const end = offset + 8 + size;
    if (end > riffEnd) throw new CorruptImage(`WebP chunk ${type.trim()} runs past the end of the file`);
    if (imageChunks.has(type)) hasImage = true;
    if (type === "EXIF") scrubGpsInTiff(bytes.subarray(offset + 8 + (startsWithExif(bytes, offset + 8) ? 6 : 0), end));
    if (type === "XMP ") bytes.fill(0x20, offset + 8, end);
    offset = end + (size % 2); // chunks are padded to an even length
  }
  if (!hasImage) throw new CorruptImage("WebP has no image data");
}

/** Some writers keep JPEG's "Exif\0\0" prefix inside the WebP chunk. */
function startsWithExif(bytes: Uint8Array, at: number): boolean {
  return bytes[at] === 0x45 && bytes[at + 1] === 0x78 && bytes[at + 2] === 0x69 && bytes[at + 3] === 0x66;
}
