import { scrubGpsInTiff } from "./exif-gps.ts";
import { CorruptImage } from "./png-structure.ts";

const exifHeader = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"
const xmpHeader = new TextEncoder().encode("http://ns.adobe.com/xap/1.0/\0");

function startsWith(bytes: Uint8Array, prefix: ArrayLike<number>, at: number): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** Markers that stand alone, without a length: TEM, RSTn. */
function standalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

/**
 * Walks the JPEG segments up to the scan (each length inside the file), then asks for an EOI after
 * it: the entropy-coded data stuffs every 0xFF, so an FF D9 there can only be the end marker.
 * Scrubs EXIF GPS in place and blanks XMP packets (which may repeat the location) with spaces.
 */
export function checkJpeg(bytes: Uint8Array): void {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) throw new CorruptImage("JPEG segment does not start with a marker");
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (standalone(marker)) {
      offset += 2;
      continue;
    }
    if (marker === 0xd9) throw new CorruptImage("JPEG ends before any image data");
    const length = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
    const end = offset + 2 + length;
    if (length < 2 || end > bytes.length) throw new CorruptImage("JPEG segment runs past the end of the file");
    const data = offset + 4;
    // image-size reads SOF0-2 only; refuse the rare other codings rather than trust a size it skipped.
    if (marker >= 0xc3 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      throw new CorruptImage("JPEG coding other than baseline or progressive is not accepted");
    }
    if (marker === 0xe1 && startsWith(bytes, exifHeader, data)) scrubGpsInTiff(bytes.subarray(data + exifHeader.length, end));
    if (marker === 0xe1 && startsWith(bytes, xmpHeader, data)) bytes.fill(0x20, data + xmpHeader.length, end);
    if (marker === 0xda) {
      for (let i = bytes.length - 2; i >= end; i--) if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return;
      throw new CorruptImage("JPEG has no end marker (EOI): the file is cut short");
    }
    offset = end;
  }
  throw new CorruptImage("JPEG has no image data: the file is cut short");
}
