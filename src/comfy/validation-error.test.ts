import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tracesDir } from "../../test/fake-comfy/traces.ts";
import { toValidationError } from "./validation-error.ts";

const trace = (name: string): unknown => JSON.parse(readFileSync(`${tracesDir()}${name}`, "utf8"));

describe("toValidationError", () => {
  it("reads the traced list shape", () => {
    expect(toValidationError(trace("prompt-400-unknown-node.json"))).toMatchObject({ type: "invalid_prompt", comfyDetails: "Node ID '#1'", nodeErrors: [] });
  });

  it("reads the traced object shape", () => {
    expect(toValidationError(trace("prompt-400-bad-input.json"))?.nodeErrors).toEqual([
      { nodeId: "1", classType: "LoadImage", errors: [{ type: "custom_validation_failed", message: "Custom validation failed for node", details: "image - Invalid image file: nope.png", inputName: "image" }] },
    ]);
  });

  it("reads the 0.8.0 shapes: node_errors an object even when empty, a missing prompt typed", () => {
    const recorded = (name: string) => (trace(`../comfyui-0.8.0/${name}`) as { body: unknown }).body;
    expect(toValidationError(recorded("prompt-400-unknown-node.json"))).toMatchObject({ type: "invalid_prompt", nodeErrors: [] });
    expect(toValidationError(recorded("prompt-400-no-prompt.json"))).toMatchObject({ type: "no_prompt", message: "No prompt provided" });
    expect(toValidationError(recorded("prompt-400-bad-input.json"))?.nodeErrors[0]).toMatchObject({ nodeId: "1", classType: "LoadImage" });
  });

  it("accepts error as a plain string and rejects bodies that are not validation answers", () => {
    expect(toValidationError({ error: "no prompt", node_errors: [] })).toMatchObject({ type: "no prompt", message: "no prompt", nodeErrors: [] });
    expect(toValidationError({ error: { type: "something_new", message: "m" } })).toMatchObject({ type: "something_new", comfyDetails: "" });
    expect(toValidationError({ nope: true })).toBeNull();
    expect(toValidationError("text")).toBeNull();
  });
});
