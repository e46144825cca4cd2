import { spawnSync } from "node:child_process";
import { apiFetch } from "../support/credentials.ts";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { dialectCases, tempDir } from "../support/dialects.ts";
import { spawnGateway, type Runtime } from "../support/spawn-gateway.ts";

const root = path.resolve(import.meta.dirname, "../..");
const runtimes: Runtime[] = ["node", "bun"];

describe.each(runtimes)("the real gateway process on %s", (runtime) => {
  describe.each(dialectCases)("with $name", (dialect) => {
  it.skipIf(dialect.skip)("serves /healthz and creates a user", async () => {
    const { env, cleanup } = dialect.env();
    try {
      const gateway = await spawnGateway(runtime, env);
      const health = await apiFetch(`${gateway.url}/healthz`);
      expect(await health.json()).toEqual({ status: "ok" });
      const created = await apiFetch(`${gateway.url}/api/users`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ frontend: "logo", externalId: `smoke-${runtime}` }),
      });
      expect(created.status).toBe(200);
      expect((await created.json()).user.externalId).toBe(`smoke-${runtime}`);
      expect((await apiFetch(`${gateway.url}/readyz`)).status).toBe(200);
      expect(await gateway.stop()).toBe(0);
    } finally {
      cleanup();
    }
  });
  });

  it("stops at start with one clear line for a bad setting", () => {
    const data = tempDir();
    const command = runtime === "node" ? ["node_modules/.bin/tsx", "src/index.ts"] : ["node_modules/.bin/bun", "src/index.bun.ts"];
    const result = spawnSync(command[0]!, command.slice(1), {
      cwd: root,
      env: { ...process.env, PORT: "not-a-port", DATA_DIR: data.dir, OSS_ACCESS_KEY_SECRET: "hunter2" },
      encoding: "utf8",
      timeout: 20_000,
    });
    data.cleanup();
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n").at(-1)).toMatch(/^aipack: configuration error: PORT: /);
    expect(result.stderr + result.stdout).not.toContain("hunter2");
  });
});
