import { describe, expect, it } from "vitest";
import type { BaseDBController } from "../../src/controllers/base-db-controller.ts";
import type { Frontend } from "../../src/controllers/db-controller-map.ts";
import { TaskFinisher } from "../../src/tasks/task-finisher.ts";
import { TaskLifecycle } from "../../src/tasks/task-lifecycle.ts";
import { UnservableTasks } from "../../src/tasks/unservable-tasks.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { dialectCases } from "../support/dialects.ts";
import { createTestGateway, settableClock, taskContextOf } from "../support/test-gateway.ts";

const sqlite = dialectCases.find((d) => d.name === "sqlite")!;
const maxWaitMs = 60_000;

/**
 * The dispatcher's UnservableTasks over a gateway's real databases and pool (one healthy fake
 * ComfyUI), a settable clock, and a switch for whether that server may be given tasks (as the
 * dispatcher's own check says: its stream open, not paused).
 */
async function unservableOver() {
  const fake = await fakeForTest();
  const clock = settableClock("2026-11-30T10:00:00.000Z");
  const gateway = await createTestGateway(sqlite, { COMFY_SERVERS: `gpu1=${fake.url}` }, clock);
  const { deps, logger } = gateway;
  await deps.pool.refresh();
  const controllers = new Map<Frontend, BaseDBController>(deps.controllers);
  const ctx = taskContextOf(gateway, { controllers });
  const switches = { dispatchable: false };
  const unservable = new UnservableTasks(ctx, new TaskFinisher(ctx, new TaskLifecycle(ctx)), maxWaitMs, () => switches.dispatchable);
  const style = deps.controllers.get("style")!;
  await style.ready();
  const row = await style.createTask({ id: "waits", userId: "u", workflow: "invert", params: {}, status: "queued", outputUrls: [], queueRound: 0, queueSeq: 1 });
  const waiting = { frontend: "style" as const, row };
  const template = deps.workflows.get("style", "invert")!;
  const task = async () => (await style.getTask("waits"))!;
  const at = (seconds: number) => clock.set(new Date(Date.parse("2026-11-30T10:00:00.000Z") + seconds * 1000).toISOString());
  return { unservable, switches, controllers, waiting, template, task, at, logger };
}

describe("tasks no live server can take", () => {
  it("a server that is up but may not be given tasks is no live server: none for the workflow, and the reason says none is up", async () => {
    const { unservable, waiting, template, task } = await unservableOver();
    expect(await unservable.liveFor(template)).toEqual([]);
    await unservable.noServer(waiting, template);
    expect(await task()).toMatchObject({ status: "queued", waitReason: "no ComfyUI server is up" });
  });

  it("a task found servable again starts its wait afresh when no server can take it anew", async () => {
    const { unservable, waiting, template, task, at } = await unservableOver();
    await unservable.noServer(waiting, template);
    at(50);
    unservable.servable("waits");
    at(70);
    await unservable.noServer(waiting, template);
    expect((await task()).status).toBe("queued");
    at(130);
    await unservable.noServer(waiting, template);
    expect((await task()).status).toBe("failed");
  });

  it("a sweep that finds a task servable again forgets its wait", async () => {
    const { unservable, switches, waiting, template, task, at } = await unservableOver();
    await unservable.sweep();
    expect((await task()).waitReason).toBe("no ComfyUI server is up");
    switches.dispatchable = true;
    at(50);
    await unservable.sweep();
    switches.dispatchable = false;
    at(70);
    await unservable.noServer(waiting, template);
    expect((await task()).status).toBe("queued");
  });

  it("a task no server can take at every sweep fails QUEUE_MAX_WAIT_MS after the first found it", async () => {
    const { unservable, task, at } = await unservableOver();
    await unservable.sweep();
    at(30);
    await unservable.sweep();
    expect((await task()).status).toBe("queued");
    at(60);
    await unservable.sweep();
    expect(await task()).toMatchObject({ status: "failed", error: "No ComfyUI server could take this task within 60 s: no ComfyUI server is up" });
  });

  it("a task whose failure could not be written waits a full QUEUE_MAX_WAIT_MS again before the next try", async () => {
    const { unservable, controllers, waiting, template, task, at } = await unservableOver();
    await unservable.noServer(waiting, template);
    const style = controllers.get("style")!;
    const away = (await createTestGateway(sqlite)).deps.controllers.get("style")!;
    await away.close();
    controllers.set("style", away);
    at(60);
    await unservable.noServer(waiting, template);
    controllers.set("style", style);
    at(61);
    await unservable.noServer(waiting, template);
    expect(await task()).toMatchObject({ status: "queued", waitReason: "no ComfyUI server is up" });
    at(121);
    await unservable.noServer(waiting, template);
    expect((await task()).status).toBe("failed");
  });

  it("a sweep that cannot read a frontend forgets none of its waits, and logs why", async () => {
    const { unservable, controllers, task, at, logger } = await unservableOver();
    await unservable.sweep();
    const style = controllers.get("style")!;
    // The frontend's database is away for one sweep: an unreadable controller (a closed one) in its place.
    const away = (await createTestGateway(sqlite)).deps.controllers.get("style")!;
    await away.close();
    controllers.set("style", away);
    at(30);
    await unservable.sweep();
    expect(logger.entries).toContainEqual({ level: "warn", message: "dispatcher: cannot look for tasks no server can take", fields: { frontend: "style", error: expect.any(String) } });
    controllers.set("style", style);
    at(60);
    await unservable.sweep();
    expect(await task()).toMatchObject({ status: "failed", error: "No ComfyUI server could take this task within 60 s: no ComfyUI server is up" });
  });
});
