import { apiFetch } from "../support/credentials.ts";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/dialects.ts";

// What the Dockerfile does, without docker: dist/ from `npm run build`'s compiler settings,
// `npm ci --omit=dev` node_modules, the folders the runtime stage copies, then its CMD.
const root = path.resolve(import.meta.dirname, "../..");
const dockerfile = readFileSync(path.join(root, "Dockerfile"), "utf8");
const copied = ["package.json", "package-lock.json", "drizzle", "workflows", "public"];

/** The runtime stage's CMD (the last one), e.g. ["node", "dist/index.js"]. */
function dockerCmd(): string[] {
  const line = dockerfile.split("\n").filter((l) => l.startsWith("CMD ")).at(-1);
  if (line === undefined) throw new Error("the Dockerfile has no CMD");
  return JSON.parse(line.slice(4)) as string[];
}

/** The migration command the Dockerfile documents (`node dist/.../migrate-cli.js`). */
function migrateCmd(): string[] {
  const match = /Migrations: .*?(node dist\/\S+)/.exec(dockerfile);
  if (match?.[1] === undefined) throw new Error("the Dockerfile does not say how to migrate");
  return match[1].split(" ");
}

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout: 240_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** Starts the image's command in `app` and resolves with its port once it says it listens. */
function startImage(app: string, env: Record<string, string>): Promise<{ port: number; stop(): Promise<number | null> }> {
  const [command, ...args] = dockerCmd();
  const child = spawn(command!, args, { cwd: app, env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", PORT: "0", HOST: "127.0.0.1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // The log line's fields come in any order: find the line, then its port.
      const line = output.split("\n").find((text) => text.includes('"message":"aipack listening"'));
      const match = line ? /"port":(\d+)/.exec(line) : null;
      if (match?.[1]) resolve({ port: Number(match[1]), stop: () => (child.kill("SIGTERM"), exited) });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => reject(new Error(`the image's CMD exited with ${code}:\n${output}`)));
  });
}

describe("the Docker image's command, run from dist/ with production dependencies only", () => {
  const app = tempDir();
  const data = tempDir();

  beforeAll(() => {
    run(path.join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json", "--noCheck", "--outDir", path.join(app.dir, "dist")], root);
    for (const entry of copied) cpSync(path.join(root, entry), path.join(app.dir, entry), { recursive: true });
    run("npm", ["ci", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund"], app.dir);
  }, 300_000);

  afterAll(() => {
    app.cleanup();
    data.cleanup();
  });

  it("installs neither tsx nor TypeScript", () => {
    expect(existsSync(path.join(app.dir, "node_modules/hono"))).toBe(true);
    expect(existsSync(path.join(app.dir, "node_modules/tsx"))).toBe(false);
    expect(existsSync(path.join(app.dir, "node_modules/typescript"))).toBe(false);
  });

  it("migrates the databases with the documented command", () => {
    const [command, ...args] = migrateCmd();
    const result = run(command!, args, app.dir, { DATA_DIR: data.dir });
    expect(result.stdout).toMatch(/^logo: migrated /m);
  });

  // Made by the keys command below, used by the gateway after it (every /api call needs one).
  let logoKey = "";

  it("creates and lists a frontend key with the keys command from dist", () => {
    const created = run("node", ["dist/server/keys-cli.js", "create", "--frontend", "logo", "--label", "dist"], app.dir, { DATA_DIR: data.dir });
    expect(created.status).toBe(0);
    logoKey = /^(aipk_logo_\S+)$/m.exec(created.stdout)?.[1] ?? "";
    expect(logoKey).not.toBe("");
    const id = logoKey.split("_")[2]!;
    const listed = run("node", ["dist/server/keys-cli.js", "list"], app.dir, { DATA_DIR: data.dir });
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+logo\\s+active .*dist$`, "m"));
    expect(listed.stdout).not.toContain(logoKey);
  });

  it("serves /healthz, the page, the shipped workflows and creates a user", async () => {
    const gateway = await startImage(app.dir, { DATA_DIR: data.dir });
    const url = `http://127.0.0.1:${gateway.port}`;
    try {
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: "ok" });
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("<html");
      const auth = { authorization: `Bearer ${logoKey}` };
      expect((await apiFetch(`${url}/api/workflows?frontend=logo`)).status).toBe(401);
      const workflows = await (await apiFetch(`${url}/api/workflows?frontend=logo`, { headers: auth })).json();
      expect(workflows.workflows.length).toBeGreaterThan(0);
      const created = await apiFetch(`${url}/api/users`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ frontend: "logo", externalId: "from-dist" }),
      });
      expect(created.status).toBe(200);
      expect((await created.json()).user.externalId).toBe("from-dist");
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  it("revokes the key with the keys command: listed as revoked, refused by the gateway", async () => {
    const id = logoKey.split("_")[2]!;
    const revoked = run("node", ["dist/server/keys-cli.js", "revoke", id], app.dir, { DATA_DIR: data.dir });
    expect(revoked.stdout).toContain(`revoked ${id}`);
    const listed = run("node", ["dist/server/keys-cli.js", "list"], app.dir, { DATA_DIR: data.dir });
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+logo\\s+revoked `, "m"));
    const gateway = await startImage(app.dir, { DATA_DIR: data.dir });
    try {
      const answer = await fetch(`http://127.0.0.1:${gateway.port}/api/workflows?frontend=logo`, { headers: { authorization: `Bearer ${logoKey}` } });
      expect(answer.status).toBe(401);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });
});
