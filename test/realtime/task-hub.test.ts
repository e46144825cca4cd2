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

  it("replays the latest executing, then the latest progress, to whoever joins mid-run", () => {
    const hub = new TaskHub();
    hub.publish("style:d", { type: "executing", taskId: "d", node: "1" });
    hub.publish("style:d", { type: "progress", taskId: "d", node: "1", value: 1, max: 4, percent: 10 });
    hub.publish("style:d", { type: "executing", taskId: "d", node: "2" });
    hub.publish("style:d", { type: "progress", taskId: "d", node: "2", value: 3, max: 4, percent: 60 });
    hub.publish("style:d", { type: "running", taskId: "d" });
    const heard: TaskEvent[] = [];
    hub.subscribe("style:d", { event: (event) => heard.push(event) });
    expect(heard).toEqual([
      { type: "executing", taskId: "d", node: "2" },
      { type: "progress", taskId: "d", node: "2", value: 3, max: 4, percent: 60 },
    ]);
    expect(hub.latestProgress("style:d")).toEqual(heard[1]);
  });

  it("keeps a task's entry while anyone follows it, and drops it with the last listener", () => {
    const hub = new TaskHub();
    const first = hub.subscribe("style:e", { event: () => undefined });
    const second = hub.subscribe("style:e", { event: () => undefined });
    first();
    expect(hub.size).toBe(1);
    second();
    expect(hub.size).toBe(0);
    second();
    expect(hub.size).toBe(0);
  });

  it("a listener that left hears nothing more; the others still do", () => {
    const hub = new TaskHub();
    const left: TaskEvent[] = [];
    const stayed: TaskEvent[] = [];
    const leave = hub.subscribe("style:f", { event: (event) => left.push(event) });
    hub.subscribe("style:f", { event: (event) => stayed.push(event) });
    leave();
    hub.publish("style:f", { type: "running", taskId: "f" });
    expect(left).toEqual([]);
    expect(stayed).toEqual([{ type: "running", taskId: "f" }]);
  });

  it("relays what it publishes, and not what another replica delivered", () => {
    const hub = new TaskHub();
    const relayed: Array<[string, TaskEvent]> = [];
    hub.useRelay({ publish: (key, event) => relayed.push([key, event]) });
    hub.publish("logo:g", { type: "running", taskId: "g" });
    hub.deliver("logo:h", { type: "running", taskId: "h" });
    expect(relayed).toEqual([["logo:g", { type: "running", taskId: "g" }]]);
  });

  it("sends previews only to listeners that asked for them, only for tasks followed", () => {
    const hub = new TaskHub();
    const previews: string[] = [];
    hub.subscribe("style:i", { event: () => undefined, preview: (preview) => previews.push(preview.taskId) });
    hub.subscribe("style:i", { event: () => undefined });
    hub.publishPreview("style:i", { taskId: "i", format: "png", bytes: new Uint8Array([1]) });
    hub.publishPreview("style:nobody", { taskId: "nobody", format: "png", bytes: new Uint8Array([1]) });
    expect(previews).toEqual(["i"]);
  });

  it("remembers the last 4096 ended tasks: the oldest is forgotten only past that", () => {
    const hub = new TaskHub();
    const end = (id: string) => hub.publish(`style:${id}`, { type: "cancelled", taskId: id });
    end("oldest");
    for (let i = 1; i < 4096; i++) end(`t${i}`);
    hub.deliver("style:oldest", { type: "executing", taskId: "oldest", node: "1" });
    expect(hub.size).toBe(0);
    end("t4096");
    hub.deliver("style:oldest", { type: "executing", taskId: "oldest", node: "1" });
    expect(hub.size).toBe(1);
  });

  it("holds the progress of a task nobody follows yet, for whoever joins", () => {
    const hub = new TaskHub();
    const progress: TaskEvent = { type: "progress", taskId: "j", node: "1", value: 1, max: 2, percent: 25 };
    hub.publish("style:j", progress);
    const heard: TaskEvent[] = [];
    hub.subscribe("style:j", { event: (event) => heard.push(event) });
    expect(heard).toEqual([progress]);
  });
});
