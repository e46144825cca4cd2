import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

interface Operation {
  [field: string]: unknown;
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}
export interface OpenApiDocument {
  [field: string]: unknown;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas?: Record<string, object> };
}

/** The documented path template a concrete path matches (`/api/tasks/abc` → `/api/tasks/{id}`). */
function templateOf(document: OpenApiDocument, pathname: string): string | undefined {
  return Object.keys(document.paths).find((template) => {
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+");
    return new RegExp(`^${pattern}$`).test(pathname);
  });
}

/**
 * Checks real answers against the schema the document gives for their route, status and content
 * type (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it). Returns the problems found, [] when the
 * answer is as documented.
 */
export function responseChecker(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // The components travel with each schema so `#/components/schemas/...` references resolve.
  const components = document.components;
  return async function check(method: string, url: string, response: Response): Promise<string[]> {
    const { pathname } = new URL(url);
    const template = templateOf(document, pathname);
    if (!template) return [`${pathname} is not documented`];
    const operation = document.paths[template]![method.toLowerCase()];
    if (!operation) return [`${method} ${template} is not documented`];
    const documented = operation.responses[String(response.status)];
    if (!documented) return [`${method} ${template} answered ${response.status}, which is not documented`];
    // A documented answer without content (204): there must be none.
    if (!documented.content) return (await response.clone().text()) === "" ? [] : [`${method} ${template} ${response.status} has a body, which is not documented`];
    const type = (response.headers.get("content-type") ?? "").split(";")[0]!;
    const schema = documented.content?.[type]?.schema;
    if (!schema) return [`${method} ${template} ${response.status} answered ${type}, which is not documented`];
    if (type !== "application/json") return [];
    const validate = ajv.compile({ ...schema, components });
    const body: unknown = await response.clone().json();
    return validate(body) ? [] : (validate.errors ?? []).map((error) => `${method} ${template} ${response.status}: ${error.instancePath} ${error.message}`);
  };
}

/** A JSON Schema (2020-12) as a check: the ajv messages for `value`, [] when it matches. */
export function schemaCheck(schema: object): (value: unknown) => string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map((error) => `${JSON.stringify(value)}: ${error.instancePath} ${error.message}`));
}
