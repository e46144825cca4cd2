import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { z } from "zod";
import { imageFileSchema, parseImageUpload, uploadErrorFrom } from "./image-file-schema.ts";
import { UploadError } from "./upload-error.ts";

import { jpegOf, realPng, webpOf } from "../../test/support/image-fixtures.ts";

const png = new Uint8Array(realPng(1, 1));
const jpeg = new Uint8Array(jpegOf(2, 2));
const webp = new Uint8Array(webpOf(3, 3));
const options = { maxBytes: 1024 };

async function refusal(value: unknown, maxBytes = options.maxBytes): Promise<UploadError> {
  const error = await parseImageUpload(value, { maxBytes }).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(UploadError);
  return error as UploadError;
}

describe("parseImageUpload", () => {
  it.each([
    ["image/png", png, "png", "image/png", "png"],
    ["image/jpeg", jpeg, "jpeg", "image/jpeg", "jpg"],
    ["image/webp", webp, "webp", "image/webp", "webp"],
    ["", png, "png", "image/png", "png"],
    ["application/octet-stream", jpeg, "jpeg", "image/jpeg", "jpg"],
  ])("accepts %s with matching bytes", async (type, bytes, kind, contentType, extension) => {
    const file = new File([bytes], "upload.bin", { type });
    const upload = await parseImageUpload(file, options);
    expect(upload).toMatchObject({ kind, contentType, extension });
    expect(upload.file).toBe(file);
    expect(upload.bytes).toEqual(bytes);
  });

  it("refuses a missing field or a text field with 400", async () => {
    for (const value of [undefined, "not a file", [new File([png], "a.png")]]) {
      const error = await refusal(value);
      expect(error).toMatchObject({ status: 400, code: "validation_failed", details: { field: "image", reason: "missing_file" } });
    }
  });

  it("refuses an empty file with 400", async () => {
    const error = await refusal(new File([], "a.png", { type: "image/png" }));
    expect(error).toMatchObject({ status: 400, code: "validation_failed", reason: "empty_file" });
  });

  it("refuses a file over the limit with 413, from its size alone", async () => {
    const file = new File([new Uint8Array(1025)], "big.png", { type: "image/png" });
    const read = vi.spyOn(file, "arrayBuffer");
    const error = await refusal(file);
    expect(error).toMatchObject({ status: 413, code: "file_too_large", reason: "file_too_large" });
    expect(error.message).toContain("1024 bytes");
    expect(read).not.toHaveBeenCalled();
  });

  it("accepts a file of exactly the limit", async () => {
    const bytes = new Uint8Array(1024);
    bytes.set(png);
    await expect(parseImageUpload(new File([bytes], "a.png"), options)).resolves.toMatchObject({ kind: "png" });
  });

  it("refuses bytes that are no accepted image with 415, whatever the declared type", async () => {
    const svg = new TextEncoder().encode("<svg xmlns='http://www.w3.org/2000/svg'></svg>");
    for (const type of ["image/png", "", "application/octet-stream"]) {
      const error = await refusal(new File([svg], "x.png", { type }));
      expect(error).toMatchObject({ status: 415, code: "unsupported_media_type", reason: "unsupported_media_type" });
    }
  });

  it("refuses a declared type we do not take before reading the bytes", async () => {
    const file = new File([png], "x.svg", { type: "image/svg+xml" });
    const read = vi.spyOn(file, "arrayBuffer");
    expect(await refusal(file)).toMatchObject({ status: 415, reason: "unsupported_media_type" });
    expect(read).not.toHaveBeenCalled();
  });

  it("refuses a declared type that disagrees with the bytes with 415", async () => {
    const error = await refusal(new File([jpeg], "x.png", { type: "image/png" }));
    expect(error).toMatchObject({ status: 415, code: "unsupported_media_type", reason: "type_mismatch" });
    expect(error.message).toContain("jpeg");
  });
});

describe("imageFileSchema", () => {
  it("puts the reason in each issue's params", async () => {
    const result = await imageFileSchema(options).safeParseAsync(new File([], "a.png"));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ code: "custom", params: { reason: "empty_file" } });
  });

  it("works on the File a real multipart request yields", async () => {
    const app = new Hono();
    app.post("/upload", async (c) => {
      const body = await c.req.parseBody();
      try {
        const upload = await parseImageUpload(body.image, options);
        return c.json({ kind: upload.kind, size: upload.bytes.byteLength });
      } catch (error) {
        if (!(error instanceof UploadError)) throw error;
        return c.json({ error: { code: error.code, details: error.details } }, error.status);
      }
    });
    const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await new Promise<void>((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;

    const send = (blob: Blob, name: string) => {
      const form = new FormData();
      form.append("image", blob, name);
      return fetch(`http://127.0.0.1:${port}/upload`, { method: "POST", body: form });
    };
    const ok = await send(new Blob([webp], { type: "image/webp" }), "a.webp");
    expect(await ok.json()).toEqual({ kind: "webp", size: webp.byteLength });
    const tooLarge = await send(new Blob([new Uint8Array(2000)], { type: "image/png" }), "big.png");
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: { code: "file_too_large" } });
    const mismatch = await send(new Blob([png], { type: "image/webp" }), "a.webp");
    expect(mismatch.status).toBe(415);
  });
});

describe("parseImageUpload: what each refusal says", () => {
  it.each([
    [1024 * 1024 * 1.5, "image: the file is larger than 1.5 MB"],
    [1024 * 1024, "image: the file is larger than 1 MB"],
    [500, "image: the file is larger than 500 bytes"],
  ])("a limit of %i bytes is told as %j", async (maxBytes, message) => {
    const error = await refusal(new File([new Uint8Array(maxBytes + 1)], "big.png", { type: "image/png" }), maxBytes);
    expect(error.message).toBe(message);
  });

  it.each([
    ["no file", "just text", "image: expected one image file"],
    ["an empty file", new File([], "e.png"), "image: the file is empty"],
    ["a declared type we do not take", new File([png], "a.gif", { type: "image/gif" }), "image: only PNG, JPEG and WebP images are accepted"],
    ["bytes of no accepted image", new File([new Uint8Array(16)], "a.png"), "image: the file is not a PNG, JPEG or WebP image"],
  ])("%s", async (_what, value, message) => {
    expect((await refusal(value)).message).toBe(message);
  });

  it("judges the bytes read, not the size declared: a file that grew while read is too large", async () => {
    const file = new File([png], "grows.png", { type: "image/png" });
    vi.spyOn(file, "arrayBuffer").mockResolvedValue(new ArrayBuffer(2048));
    const error = await refusal(file);
    expect(error).toMatchObject({ status: 413, reason: "file_too_large", message: "image: the file is larger than 1024 bytes" });
  });

  it("takes the caller's pixel limit over the default", async () => {
    const file = new File([new Uint8Array(realPng(6, 4))], "six-by-four.png", { type: "image/png" });
    const error = await parseImageUpload(file, { maxBytes: 1024, maxPixels: 23 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: "image_too_large" });
    await expect(parseImageUpload(file, { maxBytes: 1024, maxPixels: 24 })).resolves.toMatchObject({ width: 6, height: 4 });
  });
});

describe("uploadErrorFrom", () => {
  it("an error with no issue, or not one of ours, is a missing file", () => {
    expect(uploadErrorFrom(new z.ZodError([]), "image")).toMatchObject({ reason: "missing_file", message: "image: invalid file" });
    const notOurs = z.string().safeParse(1).error!;
    expect(uploadErrorFrom(notOurs, "photo")).toMatchObject({ reason: "missing_file", field: "photo", message: `photo: ${notOurs.issues[0]!.message}` });
  });
});
