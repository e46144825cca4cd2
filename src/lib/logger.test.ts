import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";

function capture(now: () => number = Date.now) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ destination, now, repeatWindowMs: 1_000 }) };
}

describe("createLogger", () => {
  it("writes one JSON line with level, time, message and fields", () => {
    const { lines, logger } = capture();
    logger.info("comfy server up", { server: "gpu1", latencyMs: 12 });
    expect(lines).toEqual([expect.objectContaining({ level: "info", message: "comfy server up", server: "gpu1", latencyMs: 12, time: expect.any(String) })]);
  });

  it("redacts secret fields, also one level down", () => {
    const { lines, logger } = capture();
    logger.info("config", { token: "t0ps3cret", headers: { authorization: "Bearer abc" }, oss: { accessKeySecret: "k" } });
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/t0ps3cret|Bearer abc|"k"/);
    expect(lines[0]).toMatchObject({ token: "[redacted]", headers: { authorization: "[redacted]" } });
  });

  it("masks passwords in URLs and token query parameters inside messages of errors", () => {
    const { lines, logger } = capture();
    logger.warn("database not ready", { error: "connect mysql://root:hunter2@db:3306 failed; GET /x?token=abc&frontend=style" });
    expect(lines[0]?.error).toBe("connect mysql://root:[redacted]@db:3306 failed; GET /x?token=[redacted]&frontend=style");
  });

  it("writes an identical warning once per window and tells how many repeats it held back", () => {
    let now = 0;
    const { lines, logger } = capture(() => now);
    for (let i = 0; i < 50; i++) logger.warn("The database is not answering", { requestId: `r${i}`, code: "database_unavailable" });
    now = 1_500;
    logger.warn("The database is not answering", { requestId: "late", code: "database_unavailable" });
    expect(lines.map((line) => line.repeated)).toEqual([undefined, 49]);
  });

  it("lets a different warning through inside the window", () => {
    const { lines, logger } = capture(() => 0);
    logger.warn("comfy server down", { server: "gpu1" });
    logger.warn("comfy server down", { server: "gpu2" });
    expect(lines.map((line) => line.server)).toEqual(["gpu1", "gpu2"]);
  });
});
