import { describe, expect, it } from "vitest";
import { eligible, pickIndex, type Candidate, type PickRequest } from "./scheduler.ts";

const server = (over: Partial<Candidate> = {}): Candidate => ({
  id: "a",
  healthy: true,
  tags: [],
  weight: 1,
  work: 0,
  nodes: new Set(["KSampler", "SaveImage"]),
  choices: new Set(["sd15.safetensors"]),
  ...over,
});

describe("which server may take a task", () => {
  it.each<[string, Partial<Candidate>, PickRequest, boolean]>([
    ["a request with no constraint, on a server whose lists are not known yet", { nodes: null, choices: null }, { requiredNodes: [], requiredModels: [] }, true],
    ["every required node offered", {}, { requiredNodes: ["KSampler", "SaveImage"] }, true],
    ["one of two required nodes missing", { nodes: new Set(["KSampler"]) }, { requiredNodes: ["KSampler", "SaveImage"] }, false],
    ["a required model missing", {}, { requiredModels: ["sdxl.safetensors"] }, false],
    ["every required tag carried", { tags: ["sdxl", "fast"] }, { requiredTags: ["sdxl", "fast"] }, true],
    ["one of two required tags missing", { tags: ["sdxl"] }, { requiredTags: ["sdxl", "fast"] }, false],
    ["an unhealthy server", { healthy: false }, {}, false],
    ["an excluded server", {}, { exclude: ["a"] }, false],
  ])("%s: %s", (_, over, request, expected) => {
    expect(eligible(server(over), request)).toBe(expected);
  });
});

describe("which server is picked", () => {
  it("the least work per unit of weight, skipping those that may not take it", () => {
    const candidates = [server({ id: "a", work: 2 }), server({ id: "b", work: 3, weight: 2 }), server({ id: "c", work: 0, healthy: false })];
    expect(pickIndex(candidates, {}, 0)).toBe(1);
  });

  it("ties go round-robin, starting after the cursor", () => {
    const candidates = [server({ id: "a" }), server({ id: "b" }), server({ id: "c" })];
    expect([0, 1, 2].map((cursor) => pickIndex(candidates, {}, cursor))).toEqual([1, 2, 0]);
  });

  it("none eligible is -1", () => {
    expect(pickIndex([server({ healthy: false })], {}, 0)).toBe(-1);
  });
});
