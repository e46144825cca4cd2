import { describe, expect, it } from "vitest";
import { isObjectKey, newObjectKey } from "./keys.ts";
import { createStorage } from "./create-storage.ts";

describe("newObjectKey", () => {
  it("uses the UTC year and month and 144 random bits", () => {
    const key = newObjectKey({ prefix: "logo/uploads", extension: "jpeg", now: new Date("2025-03-31T23:30:00-05:00") });
    expect(key).toMatch(/^logo\/uploads\/2025\/04\/[A-Za-z0-9_-]{24}\.jpeg$/);
    expect(isObjectKey(key)).toBe(true);
  });

  it("never repeats", () => {
    const keys = new Set(Array.from({ length: 1000 }, () => newObjectKey({ extension: "png" })));
    expect(keys.size).toBe(1000);
  });
});

describe("isObjectKey", () => {
  it.each(["../a.png", "a/../b.png", "/a.png", "a\\b.png", "a.png.tmp.x", ".png", "a/b", "a//b.png", "A.PNG"])(
    "rejects %s",
    (key) => expect(isObjectKey(key)).toBe(false),
  );
});

describe("createStorage", () => {
  it("picks the adapter from the kind and refuses an incomplete config", () => {
    expect(createStorage({ kind: "local", dir: "/tmp/x", publicOrigin: { url: "http://gw" } }, { urlSecret: "u".repeat(32) })).toHaveProperty("put");
    expect(
      createStorage({ kind: "oss", region: "cn-hangzhou", bucket: "pics", accessKeyId: "id", accessKeySecret: "secret" }, { urlSecret: "u".repeat(32) }),
    ).toHaveProperty("check");
    expect(() => createStorage({ kind: "oss", region: "cn-hangzhou", bucket: "", accessKeyId: "id", accessKeySecret: "s" }, { urlSecret: "u".repeat(32) })).toThrow();
    expect(() => createStorage({ kind: "oss", region: "cn-hangzhou", bucket: "No_Caps", accessKeyId: "id", accessKeySecret: "s" }, { urlSecret: "u".repeat(32) })).toThrow(
      /bucket/i,
    );
  });
});

describe("objectKeyFor", () => {
  it("derives the same key from the same identity, a valid object key", async () => {
    const { objectKeyFor } = await import("./keys.ts");
    const a = objectKeyFor({ prefix: "style/outputs", extension: "png", derivedFrom: "task-1:prompt-uuid:0" });
    expect(objectKeyFor({ prefix: "style/outputs", extension: "png", derivedFrom: "task-1:prompt-uuid:0" })).toBe(a);
    expect(a).toMatch(/^style\/outputs\/[A-Za-z0-9_-]{24}\.png$/);
    expect(isObjectKey(a)).toBe(true);
  });

  it("derives different keys for different outputs", async () => {
    const { objectKeyFor } = await import("./keys.ts");
    const first = objectKeyFor({ prefix: "style/outputs", extension: "png", derivedFrom: "task-1:prompt-uuid:0" });
    expect(objectKeyFor({ prefix: "style/outputs", extension: "png", derivedFrom: "task-1:prompt-uuid:1" })).not.toBe(first);
  });
});
