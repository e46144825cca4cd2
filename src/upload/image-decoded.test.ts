import { describe, expect, it } from "vitest";
import { exifWithGps, gpsMarker, jpegOf, pngDeclaring, pngWithGps, realPng, webpOf } from "../../test/support/image-fixtures.ts";
import { checkDecodedImage } from "./image-decoded.ts";

const limit = 25_000_000;
const bytes = (buffer: Buffer) => new Uint8Array(buffer);
const contains = (haystack: Uint8Array, needle: Uint8Array) => Buffer.from(haystack).includes(Buffer.from(needle));

describe("checkDecodedImage", () => {
  it("reads the real dimensions of PNG, JPEG and WebP", () => {
    expect(checkDecodedImage(bytes(realPng(8, 5)), "png", limit)).toEqual({ ok: true, width: 8, height: 5 });
    expect(checkDecodedImage(bytes(jpegOf(4000, 3000)), "jpeg", limit)).toEqual({ ok: true, width: 4000, height: 3000 });
    expect(checkDecodedImage(bytes(webpOf(640, 480)), "webp", limit)).toEqual({ ok: true, width: 640, height: 480 });
  });

  it("refuses a small PNG that declares 12000×12000 as image_too_large", () => {
    expect(checkDecodedImage(bytes(pngDeclaring(12_000, 12_000)), "png", limit)).toMatchObject({ ok: false, reason: "image_too_large" });
  });

  it("refuses a 74-byte PNG that declares 100000×100000 as image_too_large", () => {
    const png = pngDeclaring(100_000, 100_000);
    expect(png.length).toBeLessThan(100);
    expect(checkDecodedImage(bytes(png), "png", limit)).toMatchObject({ ok: false, reason: "image_too_large" });
  });

  it("refuses a JPEG and a WebP over the pixel limit", () => {
    expect(checkDecodedImage(bytes(jpegOf(6000, 5000)), "jpeg", limit)).toMatchObject({ ok: false, reason: "image_too_large" });
    expect(checkDecodedImage(bytes(webpOf(16_000, 16_000)), "webp", limit)).toMatchObject({ ok: false, reason: "image_too_large" });
  });

  it.each([
    ["a PNG cut after 12 bytes", () => realPng().subarray(0, 12), "png"],
    ["a PNG without IEND", () => realPng().subarray(0, realPng().length - 12), "png"],
    ["a PNG cut inside IDAT", () => realPng(64, 64).subarray(0, 60), "png"],
    ["a PNG with a failing chunk CRC", () => { const png = realPng(); png[40] = png[40]! ^ 0xff; return png; }, "png"],
    ["a JPEG without EOI", () => jpegOf(16, 16).subarray(0, -2), "jpeg"],
    ["a JPEG cut in its headers", () => jpegOf(16, 16).subarray(0, 30), "jpeg"],
    ["a WebP shorter than its RIFF size", () => webpOf(8, 8).subarray(0, 24), "webp"],
  ] as const)("refuses %s as invalid_image", (_, make, kind) => {
    expect(checkDecodedImage(bytes(make()), kind, limit)).toMatchObject({ ok: false, reason: "invalid_image" });
  });

  it("strips the GPS block of a JPEG's EXIF and keeps its orientation", () => {
    const jpeg = bytes(jpegOf(16, 16, { gps: true }));
    expect(contains(jpeg, gpsMarker)).toBe(true);
    expect(checkDecodedImage(jpeg, "jpeg", limit)).toMatchObject({ ok: true });
    expect(contains(jpeg, gpsMarker)).toBe(false);
    expect(contains(jpeg, exifWithGps().subarray(0, 22))).toBe(true); // header + Orientation entry
  });

  it("strips the GPS block of a PNG's eXIf chunk and keeps the file valid", () => {
    const png = bytes(pngWithGps());
    expect(checkDecodedImage(png, "png", limit)).toMatchObject({ ok: true });
    expect(contains(png, gpsMarker)).toBe(false);
    expect(checkDecodedImage(png, "png", limit)).toMatchObject({ ok: true }); // CRC was fixed
  });
});
