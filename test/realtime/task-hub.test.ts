import { describe, expect, it } from "vitest";
import { TaskHub } from "../../src/realtime/task-hub.ts";
import type { TaskEvent } from "../../src/realtime/task-events.ts";

describe("TaskHub", () => {
  it("holds nothing for a task nobody follows, except the progress it replays", () => {
    const hub = new TaskHub();
    hub.publish("style:a", { type: "queued", taskId: "a", ahead: 1 });
    hub.publish("style:a", { type: "running", taskId: "a" });
    expect(hub.size).toBe(0);
    hub.publish("style:a", { type: "executing", taskId: "a", node: "2" });
    expect(hub.size).toBe(1);
    hub.publish("style:a", { type: "succeeded", taskId: "a", outputUrls: [] });
    expect(hub.size).toBe(0);
  });

  it("drops events that trail a task's final one, without re-creating its entry", () => {
    const hub = new TaskHub();
    const heard: TaskEvent[] = [];
    hub.subscribe("style:b", { event: (event) => heard.push(event) });
    hub.publish("style:b", { type: "cancelled", taskId: "b" });
    hub.subscribe("style:b", { event: (event) => heard.push(event) });
    hub.publish("style:b", { type: "progress", taskId: "b", node: "2", value: 1, max: 2, percent: 50 });
    hub.publish("style:b", { type: "queued", taskId: "b", ahead: 0 });
    hub.publish("style:b", { type: "succeeded", taskId: "b", outputUrls: [] });
    expect(heard).toEqual([{ type: "cancelled", taskId: "b" }]);
    expect(hub.latestProgress("style:b")).toBeUndefined();
  });

  it("drops late events of a task that ended while nobody followed it", () => {
    const hub = new TaskHub();
    hub.publish("logo:c", { type: "failed", taskId: "c", message: "x", node: null });
    hub.deliver("logo:c", { type: "executing", taskId: "c", node: "1" });
    expect(hub.size).toBe(0);
  });
});
