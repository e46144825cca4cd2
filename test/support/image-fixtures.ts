import { crc32 } from "node:zlib";
import { encodePng, solidRaster } from "../fake-comfy/png.ts";

const ascii = (text: string) => Buffer.from(text, "latin1");
/** Latitude 48°51'24" as it sits in the fixture's GPS block, to look for after the scrub. */
export const gpsMarker = Buffer.from([0, 0, 0, 48, 0, 0, 0, 1, 0, 0, 0, 51, 0, 0, 0, 1, 0, 0, 0, 24, 0, 0, 0, 1]);

/** A little-endian TIFF block with Orientation 6 and a GPS IFD (latitude N 48°51'24"). */
export function exifWithGps(): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 2 * 12 + 4 + 2 + 2 * 12 + 4 + 24);
  tiff.write("II", 0, "latin1");
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4);
  tiff.writeUInt16LE(2, 8);
  tiff.writeUInt16LE(0x0112, 10); // Orientation SHORT 1 = 6
  tiff.writeUInt16LE(3, 12);
  tiff.writeUInt32LE(1, 14);
  tiff.writeUInt16LE(6, 18);
  const gps = 8 + 2 + 24 + 4;
  tiff.writeUInt16LE(0x8825, 22); // GPSInfo LONG 1 = offset
  tiff.writeUInt16LE(4, 24);
  tiff.writeUInt32LE(1, 26);
  tiff.writeUInt32LE(gps, 30);
  const values = gps + 2 + 24 + 4;
  tiff.writeUInt16LE(2, gps);
  tiff.writeUInt16LE(1, gps + 2); // GPSLatitudeRef ASCII 2 "N"
  tiff.writeUInt16LE(2, gps + 4);
  tiff.writeUInt32LE(2, gps + 6);
  tiff.write("N", gps + 10, "latin1");
  tiff.writeUInt16LE(2, gps + 14); // GPSLatitude RATIONAL 3, out of line
  tiff.writeUInt16LE(5, gps + 16);
  tiff.writeUInt32LE(3, gps + 18);
  tiff.writeUInt32LE(values, gps + 22);
  // Rationals in the file's byte order would be LE; the marker is written BE so it reads as one run.
  gpsMarker.copy(tiff, values);
  return tiff;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.byteLength, 0);
  head.write(type, 4, "latin1");
  const typeAndData = Buffer.concat([head.subarray(4), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData), 0);
  return Buffer.concat([head, data, crc]);
}

/** A real PNG of the given size. */
export function realPng(width = 8, height = 8): Buffer {
  return Buffer.from(encodePng(solidRaster(width, height, 0x336699)));
}

/** A small, well-formed PNG whose IHDR declares `width`×`height`: a decompression bomb's header. */
export function pngDeclaring(width: number, height: number): Buffer {
  const png = realPng(1, 1);
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A real PNG with an eXIf chunk carrying GPS, after IHDR. */
export function pngWithGps(): Buffer {
  const png = realPng();
  return Buffer.concat([png.subarray(0, 33), pngChunk("eXIf", exifWithGps()), png.subarray(33)]);
}

function segment(marker: number, data: Uint8Array): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(data.byteLength + 2, 2);
  return Buffer.concat([head, data]);
}

/**
 * A structurally whole baseline JPEG (SOI, optional EXIF with GPS, SOF0, SOS, scan, EOI) of the
 * given dimensions; the scan is `scanBytes` of filler, enough for a size but not for a decoder.
 */
export function jpegOf(width: number, height: number, options: { gps?: boolean; scanBytes?: number } = {}): Buffer {
  const sof = Buffer.from([8, 0, 0, 0, 0, 1, 1, 0x11, 0]);
  sof.writeUInt16BE(height, 1);
  sof.writeUInt16BE(width, 3);
  const parts = [Buffer.from([0xff, 0xd8]), segment(0xe0, Buffer.concat([ascii("JFIF\0"), Buffer.from([1, 1, 0, 0, 1, 0, 1, 0, 0])]))];
  if (options.gps) parts.push(segment(0xe1, Buffer.concat([ascii("Exif\0\0"), exifWithGps()])));
  parts.push(segment(0xc0, sof), segment(0xda, Buffer.from([1, 1, 0, 0, 0x3f, 0])));
  parts.push(Buffer.alloc(options.scanBytes ?? 64, 0x55), Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}

/** A lossless WebP header (VP8L) declaring `width`×`height`. */
export function webpOf(width: number, height: number): Buffer {
  const vp8l = Buffer.alloc(10);
  vp8l[0] = 0x2f;
  vp8l.writeUInt32LE(((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14), 1);
  const chunk = Buffer.concat([ascii("VP8L"), Buffer.from([vp8l.length, 0, 0, 0]), vp8l]);
  const head = Buffer.concat([ascii("RIFF"), Buffer.alloc(4), ascii("WEBP")]);
  head.writeUInt32LE(4 + chunk.length, 4);
  return Buffer.concat([head, chunk]);
}
