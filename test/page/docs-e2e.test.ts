import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { describe, expect, it, onTestFinished } from "vitest";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";

const chromiumPath = "/usr/bin/chromium";
const hasChromium = existsSync(chromiumPath);
if (!hasChromium && process.env.CI === "true") throw new Error("CI=true but no Chromium at /usr/bin/chromium (.ci/run installs it)");

const artifacts = path.resolve(import.meta.dirname, "../../test-artifacts");
const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

describe.skipIf(!hasChromium)("the docs at /docs in headless Chromium", () => {
  it("render every route from the gateway itself, under its CSP, with no request elsewhere", async () => {
    const gateway = await startTestServer(sqlite, {});
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    onTestFinished(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page: ${error.message}`));
    page.on("request", (request) => {
      if (!request.url().startsWith(gateway.url) && !request.url().startsWith("data:")) problems.push(`off-origin request: ${request.url()}`);
    });

    const answer = await page.goto(`${gateway.url}/docs`);
    expect(answer?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
    const operations = await page.locator(".opblock-summary-path").allTextContents();
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, "docs.png"), fullPage: false });

    expect(operations.map((text) => text.replace(/\u200b/g, ""))).toEqual(
      expect.arrayContaining(["/api/tasks", "/api/tasks/{id}", "/api/queue", "/api/tokens", "/api/users", "/api/ws", "/openapi.json"]),
    );
    expect(await page.locator(".scheme-container, .auth-wrapper").count()).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it("shows the submit as a multipart form with the image as a file", async () => {
    const gateway = await startTestServer(sqlite, {});
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
    onTestFinished(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    await page.goto(`${gateway.url}/docs#/Tasks/post_api_tasks`);
    const submit = page.locator("#operations-Tasks-post_api_tasks");
    await submit.locator(".opblock-body").waitFor({ timeout: 20_000 });
    await submit.locator(".opblock-section-request-body").waitFor();
    await submit.scrollIntoViewIfNeeded();
    mkdirSync(artifacts, { recursive: true });
    await submit.screenshot({ path: path.join(artifacts, "docs-submit.png") });
    const text = await submit.textContent();
    expect(text).toContain("image");
    expect(text).toContain("binary");
    expect(text).toContain("idempotency-key");
  });
});
