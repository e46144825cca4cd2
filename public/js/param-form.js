// Builds the parameter inputs from a workflow's description (GET /api/workflows) and reads them
// back as typed values. The browser's own constraint checks (required, min, max, step, maxlength)
// do the validation; the gateway checks again anyway.

import { el } from "./dom.js";

// Prompts are long; a one-line input would hide most of them.
const longTextFrom = 120;

function inputFor(parameter, id) {
  const common = { id, name: parameter.name, "data-type": parameter.type, "aria-describedby": `${id}-hint` };
  switch (parameter.type) {
    case "integer":
    case "number":
      return el("input", {
        ...common,
        type: "number",
        step: parameter.type === "integer" ? "1" : "any",
        min: parameter.min,
        max: parameter.max,
        value: parameter.default,
        required: parameter.required,
        inputmode: parameter.type === "integer" ? "numeric" : "decimal",
      });
    case "boolean":
      // Never `required`: on a checkbox that would mean "must be ticked".
      return el("input", { ...common, type: "checkbox", checked: parameter.default === true });
    case "enum": {
      const values = parameter.values ?? [];
      const hasDefault = parameter.default !== undefined && values.includes(String(parameter.default));
      // Without a default an optional enum needs a "leave it to the workflow" choice.
      const blank = !hasDefault && el("option", { value: "" }, parameter.required ? "Choose…" : "(workflow default)");
      const options = values.map((value) => el("option", { value, selected: hasDefault && value === String(parameter.default) }, value));
      return el("select", { ...common, required: parameter.required }, blank, options);
    }
    default: {
      const long = parameter.maxLength === undefined || parameter.maxLength > longTextFrom;
      const attributes = { ...common, maxlength: parameter.maxLength, required: parameter.required, autocomplete: "off" };
      if (!long) return el("input", { ...attributes, type: "text", value: parameter.default });
      const area = el("textarea", { ...attributes, rows: 3 });
      area.value = parameter.default === undefined ? "" : String(parameter.default);
      return area;
    }
  }
}

function hintFor(parameter) {
  const facts = [];
  if (parameter.min !== undefined && parameter.max !== undefined) facts.push(`${parameter.min} to ${parameter.max}`);
  else if (parameter.min !== undefined) facts.push(`at least ${parameter.min}`);
  else if (parameter.max !== undefined) facts.push(`at most ${parameter.max}`);
  if (parameter.maxLength !== undefined) facts.push(`up to ${parameter.maxLength} characters`);
  if (parameter.default !== undefined) facts.push(`default: ${parameter.default === "" ? '""' : parameter.default}`);
  else if (!parameter.required) facts.push("optional");
  const text = [parameter.description, facts.length ? `(${facts.join("; ")})` : ""].filter(Boolean).join(" ");
  return text;
}

/** Replaces `container`'s inputs with one per parameter of `workflow` (null: no workflow picked). */
export function renderParams(container, workflow) {
  const legend = container.querySelector("legend");
  container.replaceChildren(...(legend ? [legend] : []));
  if (!workflow) {
    container.append(el("p", { class: "hint" }, "Pick a workflow to see its parameters."));
    return;
  }
  if (workflow.parameters.length === 0) {
    container.append(el("p", { class: "hint" }, "This workflow takes no parameters."));
    return;
  }
  for (const parameter of workflow.parameters) {
    const id = `param-${parameter.name}`;
    const input = inputFor(parameter, id);
    const hint = el("p", { id: `${id}-hint`, class: "hint" }, hintFor(parameter));
    const label =
      parameter.type === "boolean"
        ? el("label", { class: "check", for: id }, input, el("span", { class: parameter.required ? "required" : "" }, parameter.name))
        : el("label", { class: `label${parameter.required ? " required" : ""}`, for: id }, parameter.name);
    container.append(el("div", { class: "field" }, label, parameter.type === "boolean" ? null : input, hint));
  }
}

/**
 * The values to send as `params`: numbers as numbers, booleans as booleans; empty optional fields
 * are left out so the workflow's own defaults apply.
 */
export function readParams(container, workflow) {
  const values = {};
  for (const parameter of workflow?.parameters ?? []) {
    const input = container.querySelector(`[name="${CSS.escape(parameter.name)}"]`);
    if (!input) continue;
    if (parameter.type === "boolean") {
      values[parameter.name] = input.checked;
      continue;
    }
    if (input.value === "") continue;
    values[parameter.name] = parameter.type === "integer" || parameter.type === "number" ? Number(input.value) : input.value;
  }
  return values;
}
