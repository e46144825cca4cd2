import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { describeWorkflows } from "./describe-workflows.ts";
import { loadWorkflows } from "./load-workflows.ts";
import { samplePrompt, sampleBinding } from "./test-templates.ts";
import { WorkflowConfigError } from "./workflow-template.ts";

const shippedRoot = fileURLToPath(new URL("../../workflows", import.meta.url));
// Node classes that ship with stock ComfyUI and need no model file.
const modelFreeNodes = new Set(["LoadImage", "ImageInvert", "ImageBlur", "EmptyImage", "SaveImage"]);

async function tempRoot(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "aipack-workflows-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes one `test/sample` template pair (either file may be left out) and loads the folder. */
async function loadSample(prompt: unknown, binding: unknown): Promise<unknown> {
  const root = await tempRoot();
  await mkdir(path.join(root, "test"));
  if (prompt !== undefined) await writeFile(path.join(root, "test", "sample.json"), typeof prompt === "string" ? prompt : JSON.stringify(prompt));
  if (binding !== undefined) await writeFile(path.join(root, "test", "sample.binding.json"), JSON.stringify(binding));
  return loadWorkflows(root, ["test"]).catch((error: unknown) => error);
}

async function configError(prompt: unknown, binding: unknown): Promise<string> {
  const error = await loadSample(prompt, binding);
  expect(error).toBeInstanceOf(WorkflowConfigError);
  return (error as Error).message;
}

function withParameter(name: string, change: Record<string, unknown> | undefined): Record<string, unknown> {
  const binding = sampleBinding();
  const parameters = binding.parameters as Record<string, Record<string, unknown>>;
  if (change === undefined) delete parameters[name];
  else parameters[name] = { ...parameters[name], ...change };
  return binding;
}

describe("shipped templates", () => {
  it("all load, and list what they need", async () => {
    const catalog = await loadWorkflows(shippedRoot, ["style", "logo"]);
    expect(catalog.list("style").map((t) => t.name)).toEqual(["blur", "img2img", "invert"]);
    expect(catalog.list("logo").map((t) => t.name)).toEqual(["swatch", "txt2img"]);
    expect(catalog.get("style", "invert")).toMatchObject({
      requiredNodes: ["ImageInvert", "LoadImage", "SaveImage"],
      image: { parameter: "image", required: true },
      outputs: ["3"],
      requiresModels: [],
    });
    expect(catalog.get("logo", "swatch")?.image).toBeNull();
    expect(catalog.get("logo", "invert")).toBeUndefined();
  });

  it("are consistent: prefixes, outputs, models and model-free claims", async () => {
    const catalog = await loadWorkflows(shippedRoot, ["style", "logo"]);
    for (const template of [...catalog.list("style"), ...catalog.list("logo")]) {
      const nodes = Object.values(template.prompt);
      for (const id of template.outputs) {
        expect(template.prompt[id]).toMatchObject({ class_type: "SaveImage", inputs: { filename_prefix: `aipack_${template.frontend}_${template.name}` } });
      }
      const checkpoints = nodes.filter((node) => node.class_type === "CheckpointLoaderSimple").map((node) => node.inputs.ckpt_name);
      expect([...template.requiresModels].sort()).toEqual([...new Set(checkpoints)].sort());
      if (template.requiresModels.length === 0) {
        expect(template.requiredNodes.filter((node) => !modelFreeNodes.has(node))).toEqual([]);
      }
    }
  });

  it("are described for GET /api/workflows without node ids", async () => {
    const catalog = await loadWorkflows(shippedRoot, ["style"]);
    const [blur] = describeWorkflows([catalog.get("style", "blur")!]);
    expect(blur).toEqual({
      name: "blur",
      description: expect.any(String),
      parameters: [
        { name: "blur_radius", type: "integer", required: false, default: 4, min: 1, max: 31, description: expect.any(String) },
        { name: "sigma", type: "number", required: false, default: 1, min: 0.1, max: 10, description: expect.any(String) },
      ],
      image: { required: true, description: expect.any(String) },
      requiresModels: [],
      requiresTags: [],
    });
    expect(JSON.stringify(blur)).not.toContain("targets");
    const img2img = describeWorkflows([catalog.get("style", "img2img")!])[0]!;
    expect(img2img.requiresModels).toEqual(["v1-5-pruned-emaonly.safetensors"]);
    expect(img2img.parameters.find((p) => p.name === "sampler")).toMatchObject({ type: "enum", values: expect.arrayContaining(["euler"]) });
    expect(img2img.parameters.find((p) => p.name === "prompt")).toMatchObject({ required: true, maxLength: 2000 });
  });
});

describe("loadWorkflows", () => {
  it("loads a good pair and gives a frontend without a folder no templates", async () => {
    const root = await tempRoot();
    await mkdir(path.join(root, "test"));
    await writeFile(path.join(root, "test", "sample.json"), JSON.stringify(samplePrompt()));
    await writeFile(path.join(root, "test", "sample.binding.json"), JSON.stringify(sampleBinding()));
    const catalog = await loadWorkflows(root, ["test", "other"]);
    expect(catalog.get("test", "sample")?.requiredNodes).toEqual(["LoadImage", "SaveImage", "Styler"]);
    expect(catalog.get("test", "sample")?.requiredTags).toEqual([]);
    expect(catalog.list("other")).toEqual([]);
  });

  it("takes the server tags a template requires, and describes them", async () => {
    const root = await tempRoot();
    await mkdir(path.join(root, "test"));
    await writeFile(path.join(root, "test", "sample.json"), JSON.stringify(samplePrompt()));
    await writeFile(path.join(root, "test", "sample.binding.json"), JSON.stringify({ ...sampleBinding(), requiresTags: ["sdxl", "fast", "sdxl"] }));
    const template = (await loadWorkflows(root, ["test"])).get("test", "sample")!;
    expect(template.requiredTags).toEqual(["fast", "sdxl"]);
    expect(describeWorkflows([template])[0]?.requiresTags).toEqual(["fast", "sdxl"]);
    await writeFile(path.join(root, "test", "sample.binding.json"), JSON.stringify({ ...sampleBinding(), requiresTags: [""] }));
    await expect(loadWorkflows(root, ["test"])).rejects.toThrow(/requiresTags/);
  });

  it("refuses a missing root folder", async () => {
    const root = await tempRoot();
    await expect(loadWorkflows(path.join(root, "nope"), ["test"])).rejects.toThrow(/nope: workflows folder cannot be read/);
  });

  it("names the parameter and node when a target node is missing", async () => {
    const message = await configError(samplePrompt(), withParameter("radius", { targets: [{ node: "9", input: "radius" }] }));
    expect(message).toMatch(/sample\.binding\.json: parameter "radius" targets node "9", which is not in the workflow/);
  });

  it("names the parameter, node and input when a target input is missing", async () => {
    const message = await configError(samplePrompt(), withParameter("sigma", { targets: [{ node: "2", input: "sigmaa" }] }));
    expect(message).toContain('sample.binding.json: parameter "sigma" targets node "2" (Styler) input "sigmaa", which the node does not have');
  });

  it("names a missing output node", async () => {
    const message = await configError(samplePrompt(), { ...sampleBinding(), outputs: ["3", "7"] });
    expect(message).toMatch(/sample\.binding\.json: output node "7" is not in the workflow/);
  });

  it.each([
    ["a link input", { targets: [{ node: "2", input: "image" }] }, /input "image", which is a link/],
    ["a literal of another type", { targets: [{ node: "2", input: "label" }] }, /holds a string but the parameter is integer/],
  ])("refuses a target on %s", async (_, change, pattern) => {
    expect(await configError(samplePrompt(), withParameter("radius", change))).toMatch(pattern);
  });

  it("refuses two parameters on one input", async () => {
    const message = await configError(samplePrompt(), withParameter("seed", { targets: [{ node: "2", input: "radius" }] }));
    expect(message).toMatch(/parameter "seed" targets node "2" \(Styler\) input "radius", which parameter "radius" already sets/);
  });

  it("refuses a link to a node that does not exist", async () => {
    const prompt = samplePrompt();
    prompt["3"]!.inputs.images = ["5", 0];
    expect(await configError(prompt, sampleBinding())).toMatch(/node "3" \(SaveImage\) input "images" links to node "5"/);
  });

  it.each([
    ["a default of the wrong type", "radius", { default: "4" }, /parameters\.radius\.default/],
    ["a fractional integer default", "radius", { default: 4.5 }, /parameters\.radius\.default/],
    ["a default out of range", "radius", { default: 40 }, /parameters\.radius\.default: default is above max 31/],
    ["min above max", "radius", { min: 9, max: 3, default: 5 }, /min 9 is above max 3/],
    ["an enum default outside its values", "mode", { default: "medium" }, /default "medium" is not one of values/],
    ["a default longer than maxLength", "label", { required: false, default: "too long" }, /longer than maxLength 5/],
    ["a required parameter with a default", "radius", { required: true }, /required parameter cannot have a default/],
    ["an unknown type", "radius", { type: "float" }, /parameters\.radius\.type/],
    ["a misspelt field", "radius", { maximum: 3 }, /parameters\.radius.*maximum/],
    ["no targets", "radius", { targets: [] }, /parameters\.radius\.targets/],
  ])("refuses %s, naming the parameter", async (_, name, change, pattern) => {
    const message = await configError(samplePrompt(), withParameter(name, change));
    expect(message).toContain("sample.binding.json");
    expect(message).toMatch(pattern);
  });

  it("refuses a second image parameter", async () => {
    const binding = withParameter("second", { type: "image", description: "x", targets: [{ node: "1", input: "image" }] });
    expect(await configError(samplePrompt(), binding)).toMatch(/parameters\.second: at most one image parameter/);
  });

  it("refuses a workflow without binding, a binding without workflow and broken JSON", async () => {
    expect(await configError(samplePrompt(), undefined)).toMatch(/sample\.json: has no sample\.binding\.json beside it/);
    expect(await configError(undefined, sampleBinding())).toMatch(/sample\.binding\.json: has no workflow sample\.json beside it/);
    expect(await configError("{ not json", sampleBinding())).toMatch(/sample\.json: cannot read JSON/);
    expect(await configError({ "1": { inputs: {} } }, sampleBinding())).toMatch(/sample\.json: 1\.class_type/);
  });
});
