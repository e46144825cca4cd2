import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { describe, expect, it, onTestFinished } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createUser, pngBytes, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { txt2imgParams } from "../support/watch-flow.ts";

const chromiumPath = "/usr/bin/chromium";
const hasChromium = existsSync(chromiumPath);
if (!hasChromium && process.env.CI === "true") throw new Error("CI=true but no Chromium at /usr/bin/chromium (.ci/run installs it)");
if (!hasChromium) console.warn("[aipack tests] no Chromium at /usr/bin/chromium: the page test is skipped (apt-get install chromium)");

const artifacts = path.resolve(import.meta.dirname, "../../test-artifacts");
const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

/**
 * A headless Chromium closed when the test ends, after a screenshot of each open page: taken in
 * the teardown so a failing run leaves the artifact too (one hook, so it runs before the close).
 */
async function launch(name: string): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  onTestFinished(async () => {
    try {
      mkdirSync(artifacts, { recursive: true });
      const pages = browser.contexts().flatMap((context) => context.pages());
      for (const [index, page] of pages.entries()) {
        await page.screenshot({ path: path.join(artifacts, `${name}${index ? `-${index}` : ""}.png`), fullPage: true }).catch(() => undefined);
      }
    } finally {
      await browser.close();
    }
  });
  return browser;
}

describe.skipIf(!hasChromium)("the page at / in headless Chromium", () => {
  it("uploads an image, shows its queue position, the progress bar moving and the result image", async () => {
    // Paused: nothing runs until the page has shown its place in the queue, however slow the machine.
    const fake = await fakeForTest({ msPerStep: 60, paused: true });
    const gateway = await startTestServer(sqlite, { COMFY_SERVERS: `demo-gpu=${fake.url}`, DEMO_LOGIN: "on", HOST: "127.0.0.1" });
    // Another user's job is first in the only server's queue, so the page's job waits behind it.
    const other = await createUser(gateway.url, "logo", "someone-else");
    const ahead = await submitTask(gateway.url, { frontend: "logo", userId: other, workflow: "txt2img", params: txt2imgParams(2) });
    expect(ahead.status).toBe(202);
    const browser = await launch("page-e2e");
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    await page.goto(gateway.url);
    await page.locator("#servers").getByText("demo-gpu").first().waitFor();

    await page.selectOption("#frontend", "style");
    await page.locator("#workflow option[value=img2img]").waitFor({ state: "attached" });
    await page.selectOption("#workflow", "img2img");
    await page.fill("#param-prompt", "a watercolour portrait");
    await page.fill("#param-steps", "25");
    await page.setInputFiles("#image", { name: "me.png", mimeType: "image/png", buffer: Buffer.from(pngBytes(64, 48, 0x884422)) });
    await page.click("#submit");
    await expect.poll(() => page.locator("#ahead").textContent(), { timeout: 20_000 }).toMatch(/^1 job ahead of yours/);

    // The page itself records every percent it shows, so a slow poll here cannot miss the bar moving.
    await page.evaluate(() => {
      const bar = document.getElementById("progress")!;
      const shown: number[] = [];
      Object.assign(window, { shownPercents: shown });
      new MutationObserver((records) => {
        for (const record of records) shown.push(Number(record.oldValue));
        shown.push(Number(bar.getAttribute("data-percent")));
      }).observe(bar, { attributes: true, attributeFilter: ["data-percent"], attributeOldValue: true });
    });
    fake.setOptions({ paused: false });

    const result = page.locator("#result img.result").first();
    await result.waitFor({ timeout: 25_000 });
    const shown = await page.evaluate(() => (window as unknown as { shownPercents: number[] }).shownPercents);
    expect(new Set(shown.filter((percent) => percent > 0 && percent < 100)).size).toBeGreaterThanOrEqual(2);
    const src = await result.getAttribute("src");
    expect(src).toMatch(new RegExp(`^${gateway.url}/files/style/outputs/`));
    expect(await result.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    expect(await page.locator("#status").textContent()).toMatch(/succeeded|done|finished/i);

    expect(consoleErrors).toEqual([]);
  });
});
