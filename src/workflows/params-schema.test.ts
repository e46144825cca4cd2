import { describe, expect, it } from "vitest";
import { paramsSchema } from "./params-schema.ts";
import { sampleTemplate } from "./test-templates.ts";

const template = sampleTemplate();
const schema = paramsSchema(template);

function issuePaths(value: unknown): string[] {
  const result = schema.safeParse(value);
  expect(result.success).toBe(false);
  return result.error!.issues.map((issue) => issue.path.join(".") || issue.message);
}

describe("paramsSchema", () => {
  it("applies defaults and leaves optional parameters without one absent", () => {
    expect(schema.parse({ label: "hi" })).toEqual({ label: "hi", radius: 4, sharp: true, mode: "hard" });
  });

  it("accepts every type at its limits", () => {
    const params = { label: "12345", radius: 31, sigma: 0.1, sharp: false, mode: "soft", seed: 1000 };
    expect(schema.parse(params)).toEqual(params);
  });

  it("reads a JSON string, as a multipart form sends it", () => {
    expect(schema.parse('{"label":"x","radius":2}')).toMatchObject({ label: "x", radius: 2, mode: "hard" });
  });

  it("treats a missing params field as an empty object", () => {
    const fresh = paramsSchema(sampleTemplate());
    // label is required, so an empty object still fails, but on label and nothing else.
    const result = fresh.safeParse(undefined);
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toEqual(["label"]);
  });

  it("does not coerce: strings for numbers and booleans are refused", () => {
    expect(issuePaths({ label: "x", radius: "7", sharp: "true" })).toEqual(["radius", "sharp"]);
  });

  it.each([
    [{ label: "x", radius: 0 }, "radius"],
    [{ label: "x", radius: 32 }, "radius"],
    [{ label: "x", radius: 2.5 }, "radius"],
    [{ label: "x", sigma: 10.5 }, "sigma"],
    [{ label: "x", sigma: Number.NaN }, "sigma"],
    [{ label: "too long" }, "label"],
    [{ label: "x", mode: "medium" }, "mode"],
    [{ label: "x", seed: -1 }, "seed"],
    [{ radius: 3 }, "label"],
  ])("refuses %j on %s", (value, path) => {
    expect(issuePaths(value)).toEqual([path]);
  });

  it("refuses unknown names, including the image parameter", () => {
    const result = schema.safeParse({ label: "x", colour: 3, image: "a.png" });
    expect(result.error?.issues).toEqual([expect.objectContaining({ code: "unrecognized_keys", keys: ["colour", "image"] })]);
  });

  it("refuses text that is not JSON and values that are not objects", () => {
    expect(issuePaths("{label")).toEqual(["params must be a JSON object"]);
    expect(schema.safeParse([]).success).toBe(false);
    expect(schema.safeParse("42").success).toBe(false);
  });

  it("is built once per template", () => {
    expect(paramsSchema(template)).toBe(schema);
  });
});
