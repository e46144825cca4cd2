import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { tempDir } from "../support/dialects.ts";
import { spawnGateway } from "../support/spawn-gateway.ts";

describe("an unwritable DATA_DIR", () => {
  it("stops the start with one line naming DATA_DIR and the folder", async () => {
    const data = tempDir();
    onTestFinished(data.cleanup);
    const blocker = path.join(data.dir, "a-file");
    writeFileSync(blocker, "x");
    const failed = spawnGateway("node", { DATA_DIR: path.join(blocker, "data"), COMFY_SERVERS: "http://127.0.0.1:1" });
    const error = (await failed.then(() => null, (reason: Error) => reason))!;
    const lines = error.message.split("\n").slice(1).filter(Boolean);
    expect(lines).toEqual([`aipack: configuration error: DATA_DIR: ${path.join(blocker, "data")} is not a writable folder (ENOTDIR)`]);
  });
});
