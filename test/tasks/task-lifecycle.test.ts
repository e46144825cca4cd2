import { describe, expect, it } from "vitest";
import type { TaskEvent } from "../../src/realtime/task-events.ts";
import { taskKey } from "../../src/realtime/task-key.ts";
import { newLiveTask } from "../../src/tasks/live-task.ts";
import { endings, TaskLifecycle } from "../../src/tasks/task-lifecycle.ts";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway, jsonRequest, taskContextOf } from "../support/test-gateway.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;

/** The life cycle over a real database and hub, a queued logo task, and what its followers hear. */
async function queuedTask() {
  const gateway = await createTestGateway(sqlite);
  const { app, deps, logger } = gateway;
  const ctx = taskContextOf(gateway);
  const user = (await (await app.request("/api/users", jsonRequest("POST", { frontend: "logo", externalId: "lifecycle" }))).json()).user;
  const task = await deps.controllers.get("logo")!.createTask({ userId: user.id, workflow: "swatch", params: {}, status: "queued", outputUrls: [] });
  const heard: TaskEvent[] = [];
  deps.hub.subscribe(taskKey("logo", task.id), { event: (event) => heard.push(event) });
  const ended = async (outcome: string) => (await deps.metrics.tasksEnded.get()).values.filter((v) => v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0);
  return { lifecycle: new TaskLifecycle(ctx), taskId: task.id, heard, ended, status: async () => (await deps.controllers.get("logo")!.getTask(task.id))?.status };
}

const live = () => newLiveTask({ frontend: "logo", taskId: "t", serverId: "s", promptId: "p", outputNodes: new Set(), totalNodes: 1 }, Promise.resolve());

describe("TaskLifecycle", () => {
  it("start moves a queued task to running and announces it once", async () => {
    const { lifecycle, taskId, heard, status } = await queuedTask();
    expect(await lifecycle.start("logo", taskId)).toBe(true);
    expect(await lifecycle.start("logo", taskId)).toBe(false);
    expect(heard).toEqual([{ type: "running", taskId }]);
    expect(await status()).toBe("running");
  });

  it("the first ending wins: written, announced and counted once; a later one changes nothing", async () => {
    const { lifecycle, taskId, heard, ended, status } = await queuedTask();
    expect(await lifecycle.end("logo", taskId, endings.cancelled(taskId))).toBe(true);
    expect(await lifecycle.end("logo", taskId, endings.succeeded(taskId, ["u"]))).toBe(false);
    expect(await lifecycle.end("logo", taskId, endings.cancelled(taskId))).toBe(false);
    expect(heard).toEqual([{ type: "cancelled", taskId }]);
    expect(await status()).toBe("cancelled");
    await expect.poll(() => ended("cancelled")).toBe(1);
    expect(await ended("succeeded")).toBe(0);
  });

  it("a failure is announced with its message and node", async () => {
    const { lifecycle, taskId, heard, status } = await queuedTask();
    expect(await lifecycle.end("logo", taskId, endings.failed(taskId, "ImageInvert (node 2) failed: boom", "2"))).toBe(true);
    expect(heard).toEqual([{ type: "failed", taskId, message: "ImageInvert (node 2) failed: boom", node: "2" }]);
    expect(await status()).toBe("failed");
  });

  it("endOnce runs one ending at a time: a second waits for the first instead of running", async () => {
    const { lifecycle } = await queuedTask();
    const task = live();
    let release!: (recorded: boolean) => void;
    const first = lifecycle.endOnce(task, () => new Promise<boolean>((resolve) => (release = resolve)));
    let secondRan = false;
    const second = lifecycle.endOnce(task, async () => (secondRan = true));
    expect(second).toBe(first);
    release(true);
    await second;
    expect(secondRan).toBe(false);
    expect(task.ending).toBe(first);
    expect(task.endUnrecorded).toBe(false);
  });

  it("endOnce lets an ending that could not be recorded go, marked for the next poll to retry", async () => {
    const { lifecycle } = await queuedTask();
    const task = live();
    await lifecycle.endOnce(task, async () => false);
    expect(task.ending).toBeNull();
    expect(task.endUnrecorded).toBe(true);
    let retried = false;
    await lifecycle.endOnce(task, async () => (retried = true));
    expect(retried).toBe(true);
  });

  it("requestCancel marks the task, so an interrupt that follows counts as a cancel", async () => {
    const { lifecycle } = await queuedTask();
    const task = live();
    lifecycle.requestCancel(task);
    expect(task.cancelRequested).toBe(true);
  });
});
