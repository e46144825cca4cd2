import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import { bindingSchema, workflowPromptSchema } from "./binding-schema.ts";
import { buildTemplate, WorkflowConfigError, type WorkflowTemplate } from "./workflow-template.ts";

/** Every template of every frontend, looked up by frontend and name. */
export interface WorkflowCatalog {
  /** The template, or undefined when that frontend has none by that name. */
  get(frontend: string, name: string): WorkflowTemplate | undefined;
  /** A frontend's templates sorted by name; empty for a frontend without any. */
  list(frontend: string): WorkflowTemplate[];
}

const bindingSuffix = ".binding.json";
const namePattern = /^[a-z0-9][a-z0-9_-]*$/;

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
}

async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new WorkflowConfigError(`${file}: cannot read JSON (${(error as Error).message})`, { cause: error });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new WorkflowConfigError(`${file}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

async function templateNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    // A frontend without a folder simply has no templates; any other failure is a real problem.
    if (error.code === "ENOENT") return [];
    throw new WorkflowConfigError(`${dir}: cannot list templates (${error.message})`, { cause: error });
  });
  const workflows = entries.filter((entry) => entry.endsWith(".json") && !entry.endsWith(bindingSuffix));
  const bindings = new Set(entries.filter((entry) => entry.endsWith(bindingSuffix)));
  const names = workflows.map((entry) => entry.slice(0, -".json".length));
  for (const name of names) {
    if (!namePattern.test(name)) throw new WorkflowConfigError(`${path.join(dir, `${name}.json`)}: name must be lowercase letters, digits, _ or -`);
    if (!bindings.delete(`${name}${bindingSuffix}`)) {
      throw new WorkflowConfigError(`${path.join(dir, `${name}.json`)}: has no ${name}${bindingSuffix} beside it`);
    }
  }
  const orphan = [...bindings][0];
  if (orphan) throw new WorkflowConfigError(`${path.join(dir, orphan)}: has no workflow ${orphan.replace(bindingSuffix, ".json")} beside it`);
  return names.sort();
}

/**
 * Reads `<rootDir>/<frontend>/<name>.json` and `<name>.binding.json` for each frontend, and checks
 * them all before the gateway serves anything. Throws WorkflowConfigError on the first problem.
 */
export async function loadWorkflows(rootDir: string, frontends: readonly string[]): Promise<WorkflowCatalog> {
  const root = path.resolve(rootDir);
  await readdir(root).catch((error: Error) => {
    throw new WorkflowConfigError(`${root}: workflows folder cannot be read (${error.message})`, { cause: error });
  });
  const catalog = new Map<string, Map<string, WorkflowTemplate>>();
  for (const frontend of frontends) {
    if (!namePattern.test(frontend)) throw new WorkflowConfigError(`frontend name "${frontend}" is not a folder name`);
    const dir = path.join(root, frontend);
    const templates = new Map<string, WorkflowTemplate>();
    for (const name of await templateNames(dir)) {
      const file = path.join(dir, `${name}${bindingSuffix}`);
      const prompt = await readJson(path.join(dir, `${name}.json`), workflowPromptSchema);
      const binding = await readJson(file, bindingSchema);
      templates.set(name, buildTemplate({ frontend, name, file, prompt, binding }));
    }
    catalog.set(frontend, templates);
  }
  return {
    get: (frontend, name) => catalog.get(frontend)?.get(name),
    list: (frontend) => [...(catalog.get(frontend)?.values() ?? [])],
  };
}
