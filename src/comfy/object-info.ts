import type { ObjectInfo } from "./schemas.ts";

/**
 * Every value a server offers in a choice input of any node: its model files (checkpoints, LoRAs,
 * VAEs... are combos of the files in its `models/` folders), sampler names, uploaded inputs. A
 * template's model files must be among them. Both combo forms are read: `[["a", "b"], {...}]` and,
 * in newer releases, `["COMBO", { options: ["a", "b"] }]`.
 */
export function comboChoices(info: ObjectInfo): Set<string> {
  const choices = new Set<string>();
  for (const node of Object.values(info)) {
    for (const inputs of [node.input?.required, node.input?.optional]) {
      for (const spec of Object.values(inputs ?? {})) {
        for (const value of comboValues(spec)) choices.add(value);
      }
    }
  }
  return choices;
}

function comboValues(spec: unknown): string[] {
  if (!Array.isArray(spec)) return [];
  const [type, options] = spec as [unknown, unknown];
  if (Array.isArray(type)) return type.filter((v): v is string => typeof v === "string");
  if (type === "COMBO" && typeof options === "object" && options !== null && "options" in options && Array.isArray(options.options)) {
    return options.options.filter((v): v is string => typeof v === "string");
  }
  return [];
}
