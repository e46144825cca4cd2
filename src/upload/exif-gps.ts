/**
 * Removes the GPS block of an EXIF (TIFF) structure in place, keeping the rest: ComfyUI's LoadImage
 * applies the Orientation tag, so dropping the whole EXIF would turn portrait photos on their side.
 * The length never changes, so the container (JPEG segment, PNG chunk, WebP chunk) stays valid.
 */

const gpsPointerTag = 0x8825;
/** Bytes per value of each TIFF field type (1 BYTE … 12 DOUBLE). */
const typeSizes = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8];

interface TiffView {
  u16(offset: number): number;
  u32(offset: number): number;
  length: number;
}

function tiffView(tiff: Uint8Array): TiffView | null {
  if (tiff.length < 8) return null;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  const big = tiff[0] === 0x4d && tiff[1] === 0x4d;
  if (!little && !big) return null;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  return {
    u16: (offset) => view.getUint16(offset, little),
    u32: (offset) => view.getUint32(offset, little),
    length: tiff.length,
  };
}

function gpsOffset(view: TiffView): number | null {
  const ifd0 = view.u32(4);
  if (ifd0 + 2 > view.length) return null;
  const count = view.u16(ifd0);
  for (let i = 0; i < count; i++) {
    const entry = ifd0 + 2 + i * 12;
    if (entry + 12 > view.length) return null;
    if (view.u16(entry) === gpsPointerTag) return view.u32(entry + 8);
  }
  return null;
}

/** Zeroes the GPS IFD (its entries and the values they point at). True when there was one. */
export function scrubGpsInTiff(tiff: Uint8Array): boolean {
  const view = tiffView(tiff);
  if (!view) return false;
  const gps = gpsOffset(view);
  if (gps === null || gps + 2 > view.length) return false;
  const count = view.u16(gps);
  const end = Math.min(view.length, gps + 2 + count * 12 + 4);
  for (let i = 0; i < count; i++) {
    const entry = gps + 2 + i * 12;
    if (entry + 12 > view.length) break;
    const size = (typeSizes[view.u16(entry + 2)] ?? 0) * view.u32(entry + 4);
    if (size > 4) {
      const at = view.u32(entry + 8);
      if (at < view.length) tiff.fill(0, at, Math.min(view.length, at + size));
    }
  }
  // An IFD of zero entries with no next IFD: readers see an empty GPS block.
  tiff.fill(0, gps, end);
  return true;
}
