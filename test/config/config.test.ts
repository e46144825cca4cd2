import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.ts";
import { knownFrontends } from "../../src/controllers/db-controller-map.ts";

describe("configuration", () => {
  it("starts with no configuration: SQLite per frontend, local storage, port 8388", () => {
    const config = loadConfig({}, knownFrontends);
    expect(config.port).toBe(8388);
    expect(config.frontends).toEqual(["style", "logo"]);
    expect(config.databases.style).toMatchObject({ kind: "sqlite", file: expect.stringMatching(/data\/db\/style\.db$/) });
    expect(config.storage.kind).toBe("local");
    expect(config.publicOrigin.url).toBe("http://localhost:8388");
    expect(config.comfyServers).toEqual([{ url: "http://127.0.0.1:8188", weight: 1, tags: [] }]);
  });

  it.each([
    [{ PUBLIC_BASE_URL: "https://img.example.com/" }, "https://img.example.com"],
    [{ PORT: "9000" }, "http://localhost:9000"],
    [{ PORT: "9000", HOST: "127.0.0.1" }, "http://127.0.0.1:9000"],
    [{ PORT: "9000", HOST: "::1" }, "http://[::1]:9000"],
    [{ PORT: "9000", HOST: "::" }, "http://localhost:9000"],
  ])("the public origin of %j is %s", (env, origin) => {
    expect(loadConfig(env, knownFrontends).publicOrigin.url).toBe(origin);
  });

  it("with PORT=0 the public origin names the port the server bound", () => {
    const config = loadConfig({ PORT: "0", HOST: "127.0.0.1" }, knownFrontends);
    expect(() => config.publicOrigin.url).toThrow(/PORT=0/);
    config.publicOrigin.bound(43_210);
    expect(config.publicOrigin.url).toBe("http://127.0.0.1:43210");
  });

  it("gives each frontend its own MySQL database, with overrides", () => {
    const config = loadConfig(
      { DATABASE_URL: "mysql://root:pw@db:3306", DATABASE_URL_LOGO: "mysql://u@other:3307/brand_db" },
      knownFrontends,
    );
    expect(config.databases.style).toEqual({ kind: "mysql", url: "mysql://root:pw@db:3306/", database: "aipack_style" });
    expect(config.databases.logo).toEqual({ kind: "mysql", url: "mysql://u@other:3307/", database: "brand_db" });
  });

  it.each([
    [{ PORT: "eighty" }, /^PORT: /],
    [{ PORT: "70000" }, /^PORT: /],
    [{ DATABASE_URL: "postgres://x@y/z" }, /^DATABASE_URL: must be a mysql/],
    [{ FRONTENDS: "style,poster" }, /^FRONTENDS: unknown frontend "poster"/],
    [{ STORAGE: "s3" }, /^STORAGE: /],
    [{ STORAGE: "oss", OSS_REGION: "oss-cn-hangzhou" }, /^OSS_BUCKET: required when STORAGE=oss/],
    [{ MAX_UPLOAD_BYTES: "-1" }, /^MAX_UPLOAD_BYTES: /],
    [{ COMFY_SERVERS: "gpu1=ftp://x" }, /^COMFY_SERVERS: /],
    [{ REDIS_URL: "http://cache:6379" }, /^REDIS_URL: must be a redis/],
    [{ DISPATCH_STEAL: "yes" }, /^DISPATCH_STEAL: /],
  ])("refuses %o with one line naming the variable", (env, message) => {
    expect(() => loadConfig(env, knownFrontends)).toThrow(ConfigError);
    expect(() => loadConfig(env, knownFrontends)).toThrow(message);
  });

  it("takes prepared tasks back to idle servers unless DISPATCH_STEAL=off", () => {
    expect(loadConfig({}, knownFrontends).scheduling.steal).toBe(true);
    expect(loadConfig({ DISPATCH_STEAL: "off" }, knownFrontends).scheduling.steal).toBe(false);
  });

  it("never prints a secret", () => {
    const secret = "s3cr3t-value";
    const attempt = () =>
      loadConfig({ STORAGE: "oss", OSS_REGION: "r", OSS_BUCKET: "b", OSS_ACCESS_KEY_SECRET: secret, OSS_ENDPOINT: `not a url ${secret}` }, knownFrontends);
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      expect(String(error)).not.toContain(secret);
    }
  });
});

describe("configuration secrets", () => {
  const secret = "pa55-w0rd";

  it("refuses a malformed DATABASE_URL_<FRONTEND> without printing its password", () => {
    const attempt = () => loadConfig({ DATABASE_URL_LOGO: `mysql://root:${secret}@db:port/x` }, knownFrontends);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/^DATABASE_URL_LOGO: not a valid URL/);
    expect(() => attempt()).not.toThrow(new RegExp(secret));
  });

  it("takes credentials out of COMFY_SERVERS URLs and keeps them as Basic auth", () => {
    const [server] = loadConfig({ COMFY_SERVERS: `gpu1=http://aipack:${secret}@10.0.0.5:8188` }, knownFrontends).comfyServers;
    expect(server?.url).toBe("http://10.0.0.5:8188");
    expect(Buffer.from(server?.basicAuth ?? "", "base64").toString()).toBe(`aipack:${secret}`);
  });

  it("refuses a bad COMFY_SERVERS entry without printing its credentials", () => {
    const attempt = () => loadConfig({ COMFY_SERVERS: `gpu1=ftp://aipack:${secret}@10.0.0.5:8188` }, knownFrontends);
    expect(attempt).toThrow(/^COMFY_SERVERS: /);
    expect(() => attempt()).not.toThrow(new RegExp(secret));
  });
});
