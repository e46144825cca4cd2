import { literalTypes, nodeCatalog, offeredSpec, type FakeFiles, type InputSpec } from "./node-catalog.ts";

/** A workflow as the fake receives it (unvalidated JSON). */
export type PromptGraph = Record<string, { class_type?: unknown; inputs?: Record<string, unknown> }>;

interface ErrorItem {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

/** Outcome of validating a `POST /prompt` body, mirroring ComfyUI's answers. */
export type ValidationResult =
  | { ok: true; prompt: PromptGraph; outputs: string[]; nodeErrors: Record<string, unknown> }
  | { ok: false; body: Record<string, unknown> };

const promptError = (type: string, message: string, details = "") => ({
  ok: false as const,
  body: { error: { type, message, details, extra_info: {} }, node_errors: [] },
});

/** Returns true for a `[nodeId, outputIndex]` link. */
export function isLink(value: unknown): value is [string, number] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "number";
}

/**
 * Validates like ComfyUI: unknown classes and missing outputs fail the whole prompt with
 * `node_errors: []`; input problems are reported per node, and the prompt is still queued
 * with the outputs that did validate (the others listed in `node_errors`).
 */
export function validatePrompt(body: unknown, files: FakeFiles, offered: ReadonlySet<string> | null = null): ValidationResult {
  const inputFiles = new Set(files.inputs);
  const prompt = typeof body === "object" && body !== null && "prompt" in body ? body.prompt : undefined;
  if (typeof prompt !== "object" || prompt === null || Array.isArray(prompt)) {
    return { ok: false, body: { error: "no prompt", node_errors: [] } };
  }
  const graph = prompt as PromptGraph;
  for (const [id, node] of Object.entries(graph)) {
    if (typeof node?.class_type !== "string") {
      return promptError("invalid_prompt", "Cannot execute because a node is missing the class_type property.", `Node ID '#${id}'`);
    }
    if (nodeCatalog[node.class_type] === undefined || (offered !== null && !offered.has(node.class_type))) {
      return promptError("invalid_prompt", `Cannot execute because node ${node.class_type} does not exist.`, `Node ID '#${id}'`);
    }
  }
  const outputs = Object.keys(graph)
    .filter((id) => nodeCatalog[String(graph[id]?.class_type)]?.outputNode === true)
    .sort();
  if (outputs.length === 0) return promptError("prompt_no_outputs", "Prompt has no outputs");

  const errors = new Map<string, ErrorItem[]>();
  const valid = new Map<string, boolean>();
  const check = (id: string): boolean => {
    const known = valid.get(id);
    if (known !== undefined) return known;
    valid.set(id, true); // breaks cycles; a cycle is then caught as a missing dependency at run time
    const node = graph[id];
    const def = nodeCatalog[String(node?.class_type)];
    if (node === undefined || def === undefined) return false;
    const own: ErrorItem[] = [];
    let depsOk = true;
    for (const [name, spec] of Object.entries(def.required)) {
      const value = node.inputs?.[name];
      if (value === undefined) own.push(item("required_input_missing", "Required input is missing", name, name));
      else if (isLink(value)) depsOk = checkLink(graph, name, spec, value, own, check) && depsOk;
      else own.push(...checkLiteral(node.class_type as string, name, offeredSpec(node.class_type as string, name, spec, files), value, inputFiles));
    }
    if (own.length > 0) errors.set(id, own);
    const ok = own.length === 0 && depsOk;
    valid.set(id, ok);
    return ok;
  };
  const good = outputs.filter((id) => check(id));
  const nodeErrors = Object.fromEntries(
    [...errors].map(([id, list]) => [
      id,
      { errors: list, dependent_outputs: outputs.filter((o) => !good.includes(o)), class_type: graph[id]?.class_type },
    ]),
  );
  if (good.length === 0) {
    return {
      ok: false,
      body: {
        error: { type: "prompt_outputs_failed_validation", message: "Prompt outputs failed validation", details: "", extra_info: {} },
        node_errors: nodeErrors,
      },
    };
  }
  return { ok: true, prompt: graph, outputs: good, nodeErrors };
}

function item(type: string, message: string, details: string, inputName: string): ErrorItem {
  return { type, message, details, extra_info: { input_name: inputName } };
}

function checkLink(
  graph: PromptGraph,
  name: string,
  spec: InputSpec,
  [source, index]: [string, number],
  own: ErrorItem[],
  check: (id: string) => boolean,
): boolean {
  const sourceDef = nodeCatalog[String(graph[source]?.class_type)];
  if (sourceDef === undefined) {
    own.push(item("bad_linked_input", "Bad linked input, linked node does not exist", `${name}, ${source}`, name));
    return false;
  }
  const received = sourceDef.outputs[index]?.[0];
  const expected = Array.isArray(spec[0]) ? "COMBO" : spec[0];
  if (received === undefined || (received !== expected && !literalTypes.has(expected))) {
    own.push(
      item("return_type_mismatch", "Return type mismatch between linked nodes", `${name}, received_type(${received ?? "none"}) mismatch input_type(${expected})`, name),
    );
    return false;
  }
  return check(source);
}

function checkLiteral(classType: string, name: string, spec: InputSpec, value: unknown, files: ReadonlySet<string>): ErrorItem[] {
  const [type, options = {}] = spec;
  // LoadImage validates its own input (VALIDATE_INPUTS), so ComfyUI skips the combo check there.
  if (classType === "LoadImage" && name === "image") {
    return typeof value === "string" && files.has(value)
      ? []
      : [item("custom_validation_failed", "Custom validation failed for node", `image - Invalid image file: ${String(value)}`, name)];
  }
  if (Array.isArray(type)) {
    return type.includes(String(value))
      ? []
      : [item("value_not_in_list", "Value not in list", `${name}: '${String(value)}' not in ${JSON.stringify(type)}`, name)];
  }
  if (!literalTypes.has(type)) return [item("bad_linked_input", "Bad linked input, must be a length-2 list of [string, int]", `${name}, ${JSON.stringify(value)}`, name)];
  if (type === "STRING") return typeof value === "string" ? [] : [item("invalid_input_type", "Failed to convert an input value to a STRING value", `${name}, ${String(value)}`, name)];
  if (type === "BOOLEAN") return typeof value === "boolean" ? [] : [item("invalid_input_type", "Failed to convert an input value to a BOOLEAN value", `${name}, ${String(value)}`, name)];
  if (typeof value !== "number" || (type === "INT" && !Number.isInteger(value))) {
    return [item("invalid_input_type", `Failed to convert an input value to a ${type} value`, `${name}, ${String(value)}`, name)];
  }
  if (typeof options.min === "number" && value < options.min) {
    return [item("value_smaller_than_min", `Value ${value} smaller than min of ${options.min}`, `${name}`, name)];
  }
  if (typeof options.max === "number" && value > options.max) {
    return [item("value_bigger_than_max", `Value ${value} bigger than max of ${options.max}`, `${name}`, name)];
  }
  return [];
}
