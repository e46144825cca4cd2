import { apiFetch } from "../support/credentials.ts";
import { execFileSync } from "node:child_process";
import { appendFileSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases, tempDir } from "../support/dialects.ts";
import { submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";
import { expectCleanEnd, image, settled, submitMany } from "./fault-support.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const root = process.getuid?.() === 0;
if (!root) console.warn("\n[aipack tests] not root: the disk-full fault (a small tmpfs) is skipped; CI runs it as root\n");

/** A 4 MB tmpfs as DATA_DIR: SQLite files and local storage on a disk the test can fill. */
function smallDisk(): { env: Record<string, string>; cleanup(): void } {
  const mount = tempDir();
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mount.dir]);
  return {
    env: { DATA_DIR: mount.dir },
    cleanup: () => {
      execFileSync("umount", ["-l", mount.dir]);
      mount.cleanup();
    },
  };
}

/** Writes until the disk refuses; returns the filler's path. */
function fill(dir: string): string {
  const filler = path.join(dir, "filler");
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) appendFileSync(filler, chunk);
  } catch {
    for (let size = 4096; size >= 1; size = Math.floor(size / 2)) {
      try {
        for (;;) appendFileSync(filler, chunk.subarray(0, size));
      } catch {
        // smaller pieces next, until not one byte fits
      }
    }
  }
  return filler;
}

describe("disk full (SQLite and local storage on a small tmpfs)", () => {
  it.skipIf(!root)("readiness says so, writes answer 503 (never 500), and every task ends once space is back", async () => {
    const fake = await fakeForTest({ paused: true });
    const disk = smallDisk();
    const gw = await startTestServer(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}`, STORAGE_MIN_FREE_BYTES: String(256 * 1024), RECONCILE_INTERVAL_MS: "300" }, disk);
    const { ids, userId } = await submitMany(gw.url, 1);
    const filler = fill(gw.config.dataDir);
    onTestFinished(() => rmSync(filler, { force: true }));

    await expect.poll(async () => (await fetch(`${gw.url}/readyz`)).status, { timeout: 10_000 }).toBe(503);
    const users = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        apiFetch(`${gw.url}/api/users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ frontend: "style", externalId: `full-${i}` }) }),
      ),
    );
    const statuses = users.map((res) => res.status);
    expect(statuses.filter((status) => status >= 500 && status !== 503)).toEqual([]);
    expect(statuses).toContain(503);
    const refused = await submitTask(gw.url, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(refused.status).toBe(503);
    fake.setOptions({ paused: false }); // the task ends on ComfyUI while nothing can be written

    rmSync(filler);
    await expect.poll(async () => (await fetch(`${gw.url}/readyz`)).status, { timeout: 15_000 }).toBe(200);
    const more = await submitMany(gw.url, 1, "after-full");
    const tasks = await settled(gw.url, "style", [...ids, ...more.ids]);
    expect(tasks[1]?.status).toBe("succeeded");
    await expectCleanEnd(gw.url, tasks, gw.config.dataDir);
  });
});
