import type { ParameterBinding, WorkflowBinding, WorkflowPrompt } from "./binding-schema.ts";

/** A workflow template ready to fill: the prompt and its binding, checked against each other and frozen. */
export interface WorkflowTemplate {
  frontend: string;
  name: string;
  description: string;
  /** The API-format workflow as written in `<name>.json`; deep-frozen, never sent as is. */
  prompt: Readonly<WorkflowPrompt>;
  parameters: Readonly<Record<string, ParameterBinding>>;
  outputs: readonly string[];
  requiresModels: readonly string[];
  /** Tags a server must all have (from the binding's `requiresTags`); empty: any server. */
  requiredTags: readonly string[];
  /** Every node class the workflow uses, sorted: a server must offer them all. */
  requiredNodes: readonly string[];
  /** The image parameter, when the template takes an uploaded image. */
  image: { parameter: string; required: boolean; description: string } | null;
}

/** A template file set that is wrong; the message names the file, parameter, node and input. */
export class WorkflowConfigError extends Error {
  override name = "WorkflowConfigError";
}

function isLink(value: unknown): value is [string, number] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "number";
}

// The JSON type a parameter writes, so a target whose current literal has another type is caught.
const literalType: Record<ParameterBinding["type"], string> = {
  image: "string",
  string: "string",
  enum: "string",
  integer: "number",
  number: "number",
  boolean: "boolean",
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Checks a binding against its workflow and builds the template: every link points at a node,
 * every target names an existing literal input of the right type, no input has two parameters,
 * every output node exists. `file` is the binding's path, used in messages.
 */
export function buildTemplate(input: {
  frontend: string;
  name: string;
  file: string;
  prompt: WorkflowPrompt;
  binding: WorkflowBinding;
}): WorkflowTemplate {
  const { prompt, binding, file } = input;
  const fail = (message: string): never => {
    throw new WorkflowConfigError(`${file}: ${message}`);
  };

  for (const [id, node] of Object.entries(prompt)) {
    for (const [inputName, value] of Object.entries(node.inputs)) {
      if (isLink(value) && !prompt[value[0]]) {
        fail(`node "${id}" (${node.class_type}) input "${inputName}" links to node "${value[0]}", which does not exist`);
      }
    }
  }

  const claimed = new Map<string, string>();
  for (const [name, parameter] of Object.entries(binding.parameters)) {
    for (const { node: id, input: inputName } of parameter.targets) {
      const node = prompt[id];
      if (!node) fail(`parameter "${name}" targets node "${id}", which is not in the workflow`);
      const where = `parameter "${name}" targets node "${id}" (${node!.class_type}) input "${inputName}"`;
      if (!Object.hasOwn(node!.inputs, inputName)) fail(`${where}, which the node does not have`);
      const current = node!.inputs[inputName];
      if (isLink(current)) fail(`${where}, which is a link; only literal inputs can be set`);
      if (typeof current !== literalType[parameter.type]) {
        fail(`${where}, which holds a ${typeof current} but the parameter is ${parameter.type}`);
      }
      const slot = `${id}.${inputName}`;
      const other = claimed.get(slot);
      if (other) fail(`${where}, which parameter "${other}" already sets`);
      claimed.set(slot, name);
    }
  }

  for (const id of binding.outputs) {
    if (!prompt[id]) fail(`output node "${id}" is not in the workflow`);
  }

  const imageEntry = Object.entries(binding.parameters).find(([, parameter]) => parameter.type === "image");
  return deepFreeze({
    frontend: input.frontend,
    name: input.name,
    description: binding.description,
    prompt,
    parameters: binding.parameters,
    outputs: binding.outputs,
    requiresModels: binding.requiresModels,
    requiredTags: [...new Set(binding.requiresTags)].sort(),
    requiredNodes: [...new Set(Object.values(prompt).map((node) => node.class_type))].sort(),
    image: imageEntry
      ? { parameter: imageEntry[0], required: imageEntry[1].required ?? true, description: imageEntry[1].description }
      : null,
  });
}
