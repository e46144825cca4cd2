import { createHash } from "node:crypto";
import { isLink, type PromptGraph } from "./validate.ts";

/**
 * Execution order: depth-first from each output node (ascending id), inputs before the node.
 * ComfyUI allows any topological order; this one matches the traces.
 */
export function executionOrder(graph: PromptGraph, outputs: string[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id) || graph[id] === undefined) return;
    seen.add(id);
    for (const value of Object.values(graph[id]?.inputs ?? {})) if (isLink(value)) visit(value[0]);
    order.push(id);
  };
  for (const id of outputs) visit(id);
  return order;
}

/**
 * A node's cache signature: its class, literal inputs and its sources' signatures, so a rerun with
 * identical inputs is served from cache. `extra` adds outside state (LoadImage's file bytes).
 */
export function signatures(graph: PromptGraph, order: string[], extra: (id: string) => string): Map<string, string> {
  const result = new Map<string, string>();
  for (const id of order) {
    const node = graph[id];
    const inputs = Object.entries(node?.inputs ?? {}).map(([k, v]) => [k, isLink(v) ? [result.get(v[0]), v[1]] : v]);
    const text = JSON.stringify([node?.class_type, inputs, extra(id)]);
    result.set(id, createHash("sha256").update(text).digest("hex"));
  }
  return result;
}

/** Resolves a node's inputs: links become the source node's output value. */
export function resolveInputs(
  graph: PromptGraph,
  id: string,
  values: ReadonlyMap<string, unknown[]>,
): Record<string, unknown> {
  const resolved: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(graph[id]?.inputs ?? {})) {
    resolved[name] = isLink(value) ? values.get(value[0])?.[value[1]] : value;
  }
  return resolved;
}

/** ComfyUI's `current_inputs` in execution_error: every input value stringified inside a list. */
export function describeInputs(inputs: Record<string, unknown>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [k, [typeof v === "string" ? v : JSON.stringify(v)?.slice(0, 200) ?? "None"]]),
  );
}
