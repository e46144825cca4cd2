import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The layers of src/, top to bottom (style.md item 10). A file may import its own layer or any
// layer below it, never one above: data flows one way, and a newcomer reads the tree top down.
// Services are split in two so that the task service may use the real-time layer, not the reverse.
// Authentication (keys, tokens, principals) sits on the stores it reads, below every service.
// Limits (rate budgets, admission) read the pool and the stores, and serve the middleware above.
// Webhooks (the outbox sender, destination checks, event payloads) sit on the stores; the task
// life cycle tells them about changes and the routes manage their endpoints.
const layers: ReadonlyArray<{ name: string; members: readonly string[] }> = [
  { name: "entries and wiring", members: ["index.ts", "index.bun.ts", "app.ts", "server/"] },
  { name: "routes and middleware", members: ["routes/", "middleware/", "views/"] },
  { name: "task service", members: ["tasks/"] },
  { name: "real-time", members: ["realtime/"] },
  { name: "authentication", members: ["auth/"] },
  { name: "limits", members: ["limits/"] },
  { name: "webhooks", members: ["webhooks/"] },
  { name: "infrastructure", members: ["pool/", "comfy/", "storage/", "controllers/", "db/", "workflows/", "upload/", "config/"] },
  { name: "foundation", members: ["schema/", "errors/", "lib/"] },
];

const srcDir = fileURLToPath(new URL("../../src/", import.meta.url));

/** Index in `layers` of a path relative to src/, or -1 when no layer claims it. */
function layerOf(relative: string): number {
  const unix = relative.split(path.sep).join("/");
  return layers.findIndex((layer) => layer.members.some((member) => (member.endsWith("/") ? unix.startsWith(member) : unix === member)));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    // Tests beside the code may compose several layers; only the running code is held to them.
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [full] : [];
  });
}

/** The relative module specifiers a file imports or re-exports (static and dynamic). */
function relativeImports(source: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;
  for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

const files = sourceFiles(srcDir).map((file) => path.relative(srcDir, file));

describe("the layout of src/", () => {
  it("puts every source file in a layer", () => {
    expect(files.filter((file) => layerOf(file) === -1)).toEqual([]);
  });

  it("has no import that points up a layer", () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const specifier of relativeImports(readFileSync(path.join(srcDir, file), "utf8"))) {
        const target = path.relative(srcDir, path.resolve(srcDir, path.dirname(file), specifier));
        const to = layerOf(target);
        if (to !== -1 && to < from) upward.push(`${file} (${layers[from]!.name}) → ${target} (${layers[to]!.name})`);
      }
    }
    expect(upward).toEqual([]);
  });
});
