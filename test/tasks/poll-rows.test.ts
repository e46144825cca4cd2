import { describe, expect, it, vi } from "vitest";
import { PollRows } from "../../src/tasks/poll-rows.ts";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway } from "../support/test-gateway.ts";

// Clients' polls answer from a task row read at most once per window (src/tasks/poll-rows.ts).

describe.each(dialectCases)("rows read for polls on $name", (dialect) => {
  async function world() {
    const { deps } = await createTestGateway(dialect);
    const style = deps.controllers.get("style")!;
    await style.ready();
    const user = await style.upsertUser({ externalId: `poll-rows-${Math.random().toString(36).slice(2)}` });
    const task = await style.createTask({ userId: user.id, workflow: "invert", params: {}, status: "running", outputUrls: [] });
    let now = 1_000;
    const rows = new PollRows(deps.controllers, 250, () => now);
    const reads = vi.spyOn(style, "getTask");
    return { style, task, rows, reads, advance: (ms: number) => (now += ms) };
  }

  it.skipIf(dialect.skip)("polls of one task within the window share one read of its row", async () => {
    const { task, rows, reads, advance } = await world();
    const answers = await Promise.all(Array.from({ length: 20 }, () => rows.read("style", task.id)));
    advance(249);
    answers.push(await rows.read("style", task.id));
    expect(answers.every((row) => row?.id === task.id && row.status === "running")).toBe(true);
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it.skipIf(dialect.skip)("a poll once the window has passed reads the row again and sees its change", async () => {
    const { style, task, rows, advance } = await world();
    expect((await rows.read("style", task.id))?.status).toBe("running");
    await style.transitionTask(task.id, ["running"], { status: "succeeded", outputUrls: [] });
    advance(250);
    expect((await rows.read("style", task.id))?.status).toBe("succeeded");
  });

  it.skipIf(dialect.skip)("a failed read is not shared: the next poll asks the database again", async () => {
    const { task, rows, reads } = await world();
    reads.mockRejectedValueOnce(new Error("database away"));
    await expect(rows.read("style", task.id)).rejects.toThrow("database away");
    expect((await rows.read("style", task.id))?.id).toBe(task.id);
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it.skipIf(dialect.skip)("rows of tasks no longer polled are let go once their window has passed", async () => {
    const { style, task, rows, advance } = await world();
    const other = await style.createTask({ userId: task.userId, workflow: "invert", params: {}, status: "running", outputUrls: [] });
    await rows.read("style", task.id);
    advance(250);
    await rows.read("style", other.id);
    expect(rows.size).toBe(1);
  });
});
