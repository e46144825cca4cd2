import { describe, expect, it } from "vitest";
import { declaredImageKind, sniffImageType } from "./image-kinds.ts";

const bytes = (...values: number[]) => new Uint8Array(values);
const text = (value: string) => new TextEncoder().encode(value);

describe("sniffImageType", () => {
  it("knows PNG, JPEG and WebP by their magic bytes", () => {
    expect(sniffImageType(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0))).toBe("png");
    expect(sniffImageType(bytes(0xff, 0xd8, 0xff, 0xe0))).toBe("jpeg");
    expect(sniffImageType(text("RIFF\x10\x00\x00\x00WEBPVP8 "))).toBe("webp");
  });

  it("a WebP header of exactly 12 bytes is enough", () => {
    expect(sniffImageType(text("RIFF\x04\x00\x00\x00WEBP"))).toBe("webp");
  });

  it.each([
    ["empty", bytes()],
    ["truncated PNG", bytes(0x89, 0x50, 0x4e, 0x47)],
    ["PNG with a broken line-ending check", bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x0a, 0x0a)],
    ["two JPEG bytes", bytes(0xff, 0xd8)],
    ["RIFF WAVE", text("RIFF\x10\x00\x00\x00WAVEfmt ")],
    ["short RIFF", text("RIFF\x10\x00\x00\x00WEB")],
    ["WEBP at byte 8 without RIFF", text("RIFX\x10\x00\x00\x00WEBPVP8 ")],
    ["GIF", text("GIF89a")],
    ["SVG", text("<svg xmlns='http://www.w3.org/2000/svg'/>")],
    ["HTML", text("<html><script>alert(1)</script>")],
  ])("refuses %s", (_, value) => {
    expect(sniffImageType(value)).toBeNull();
  });
});

describe("declaredImageKind", () => {
  it("reads common types and aliases, and treats an empty or generic type as unknown", () => {
    expect(declaredImageKind("image/PNG")).toBe("png");
    expect(declaredImageKind("image/jpg")).toBe("jpeg");
    expect(declaredImageKind("image/webp; charset=binary")).toBe("webp");
    expect(declaredImageKind(" image/jpeg ")).toBe("jpeg");
    expect(declaredImageKind("")).toBe("unknown");
    expect(declaredImageKind("application/octet-stream")).toBe("unknown");
    expect(declaredImageKind("image/svg+xml")).toBeNull();
    expect(declaredImageKind("text/html")).toBeNull();
  });
});
