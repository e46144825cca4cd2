import { describe, expect, it } from "vitest";
import { multipartBody } from "./multipart-body.ts";

/** Reads the body back with the platform's own multipart parser, as a server would. */
async function parse(encoded: { body: Uint8Array<ArrayBuffer>; contentType: string }): Promise<FormData> {
  return new Response(encoded.body, { headers: { "content-type": encoded.contentType } }).formData();
}

describe("multipartBody", () => {
  it("carries the fields and the file byte for byte", async () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 31) % 256);
    const form = await parse(multipartBody({ overwrite: "true" }, { name: "image", filename: "in.png", contentType: "image/png", bytes }));
    expect(form.get("overwrite")).toBe("true");
    const file = form.get("image");
    expect(file).toBeInstanceOf(File);
    expect((file as File).name).toBe("in.png");
    expect((file as File).type).toBe("image/png");
    expect(new Uint8Array(await (file as File).arrayBuffer())).toEqual(bytes);
  });

  it("escapes quotes and line breaks in names so they cannot forge headers", async () => {
    const encoded = multipartBody({}, { name: "image", filename: 'a"b\r\nX-Evil: 1.png', contentType: "image/png", bytes: new Uint8Array([1]) });
    const text = Buffer.from(encoded.body).toString("latin1");
    expect(text).toContain('filename="a%22b%0D%0AX-Evil: 1.png"');
    expect(text).not.toContain("\r\nX-Evil");
    // A parser undoes the escaping: the name round-trips, the headers stay intact.
    expect(((await parse(encoded)).get("image") as File).name).toBe('a"b\r\nX-Evil: 1.png');
  });

  it("uses a fresh boundary each time", () => {
    const one = multipartBody({}, { name: "f", filename: "x", contentType: "image/png", bytes: new Uint8Array() });
    const two = multipartBody({}, { name: "f", filename: "x", contentType: "image/png", bytes: new Uint8Array() });
    expect(one.contentType).toMatch(/^multipart\/form-data; boundary=----aipack[0-9a-f]{32}$/);
    expect(one.contentType).not.toBe(two.contentType);
  });
});
