import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";
import { describe, expect, it, onTestFinished } from "vitest";
import { createPageRouter } from "./page.ts";

const realPublicDir = fileURLToPath(new URL("../../public", import.meta.url));

function appFor(publicDir: string) {
  return new Hono().route("/", createPageRouter({ publicDir }));
}

/** A fresh folder: `site/` is the public dir, `secret.txt` sits beside it where traversal would land. */
async function makeSite() {
  const base = await mkdtemp(path.join(tmpdir(), "aipack-page-"));
  onTestFinished(() => rm(base, { recursive: true, force: true }));
  const site = path.join(base, "site");
  await mkdir(path.join(site, "js"), { recursive: true });
  await writeFile(path.join(site, "index.html"), "<!doctype html><title>t</title>");
  await writeFile(path.join(site, "app.css"), "body{}");
  await writeFile(path.join(site, "js", "main.js"), "export {};");
  await writeFile(path.join(site, ".env"), "SECRET=1");
  await writeFile(path.join(site, "notes.md"), "# not an asset type");
  await writeFile(path.join(base, "secret.txt"), "top secret");
  return { base, site, app: appFor(site) };
}

async function expectNotFound(response: Response) {
  expect(response.status).toBe(404);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("not_found");
  expect(body.error.message).toEqual(expect.any(String));
}

describe("page router: happy paths", () => {
  it("serves the real public/index.html at / as HTML, uncached, with a CSP", async () => {
    const response = await appFor(realPublicDir).request("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await response.text();
    for (const id of ["frontend", "user", "workflow", "params", "image", "submit", "status", "ahead", "progress", "result", "error", "cancel", "servers", "refresh-servers"]) {
      expect(html, `#${id}`).toContain(`id="${id}"`);
    }
  });

  it("serves every asset index.html references, and every module those import", async () => {
    const app = appFor(realPublicDir);
    const html = await readFile(path.join(realPublicDir, "index.html"), "utf8");
    const referenced = [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(referenced.length).toBeGreaterThan(0);
    const modules = (await readdir(path.join(realPublicDir, "js"))).filter((name) => name.endsWith(".js"));
    for (const name of modules) {
      const source = await readFile(path.join(realPublicDir, "js", name), "utf8");
      for (const match of source.matchAll(/from "\.\/([^"]+)"/g)) referenced.push(`/assets/js/${match[1]}`);
    }
    for (const url of new Set(referenced)) {
      const response = await app.request(url);
      expect(response.status, url).toBe(200);
      expect(response.headers.get("content-type"), url).toMatch(/^text\/(css|javascript); charset=utf-8$/);
    }
  });

  it("answers assets with their content type, a short cache and an ETag that revalidates", async () => {
    const { app } = await makeSite();
    const css = await app.request("/assets/app.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(css.headers.get("cache-control")).toBe("public, max-age=60, must-revalidate");
    expect(css.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await css.text()).toBe("body{}");

    const js = await app.request("/assets/js/main.js");
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");

    const etag = css.headers.get("etag");
    expect(etag).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    const again = await app.request("/assets/app.css", { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
  });
});

describe("page router: errors", () => {
  it("answers 404 JSON for a missing asset, a folder and an unknown file type", async () => {
    const { app } = await makeSite();
    await expectNotFound(await app.request("/assets/missing.css"));
    await expectNotFound(await app.request("/assets/js"));
    await expectNotFound(await app.request("/assets/js/"));
    await expectNotFound(await app.request("/assets/notes.md"));
  });

  it("answers 404 JSON at / when index.html is missing", async () => {
    const { base } = await makeSite();
    await expectNotFound(await appFor(path.join(base, "nowhere")).request("/"));
  });
});

describe("page router: security", () => {
  it("refuses encoded traversal, backslashes and NUL bytes", async () => {
    const { app } = await makeSite();
    for (const url of [
      "/assets/..%2fsecret.txt",
      "/assets/%2e%2e%2fsecret.txt",
      "/assets/js/..%2f..%2fsecret.txt",
      "/assets/..%5csecret.txt",
      "/assets/app.css%00.js",
      "/assets/%E0%A4%A",
    ]) {
      const response = await app.request(url);
      expect(response.status, url).toBe(404);
      expect(await response.text(), url).not.toContain("top secret");
    }
  });

  it("never reaches outside the folder through dot segments the URL parser resolves", async () => {
    const { app } = await makeSite();
    for (const url of ["/assets/../secret.txt", "/assets/%2e%2e/secret.txt", "/assets/js/../../secret.txt"]) {
      const response = await app.request(url);
      expect(response.status, url).toBe(404);
      expect(await response.text(), url).not.toContain("top secret");
    }
  });

  it("hides dot-files and symlinks that leave the folder", async () => {
    const { app, base, site } = await makeSite();
    await symlink(path.join(base, "secret.txt"), path.join(site, "leak.txt"));
    await expectNotFound(await app.request("/assets/.env"));
    await expectNotFound(await app.request("/assets/leak.txt"));
  });
});
