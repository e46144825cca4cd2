import { describe, expect, it } from "vitest";
import { newLiveTask, overallPercent } from "./live-task.ts";

/** A task of `total` nodes, `cached` of them taken from ComfyUI's cache, `executed` started, `current` running. */
function task(total: number | null, cached: number, executed: string[], current: string | null) {
  const live = newLiveTask({ frontend: "logo", taskId: "t", serverId: "s", promptId: "p", outputNodes: new Set(), totalNodes: total }, Promise.resolve());
  live.cachedNodes = cached;
  for (const node of executed) live.executedNodes.add(node);
  live.currentNode = current;
  return live;
}

describe("overallPercent: the whole task's progress from node progress", () => {
  it.each([
    ["no node count (an old server)", task(null, 0, ["a"], "a"), 5, 10, null],
    ["half of the second of four nodes", task(4, 0, ["a", "b"], "b"), 5, 10, 37.5],
    ["cached nodes do not count as work to do", task(4, 2, ["x", "y"], "y"), 10, 10, 100],
    ["a step value past its max counts as the node done", task(2, 0, ["a"], "a"), 15, 10, 50],
    ["a max of 0 counts the running node as not started", task(2, 0, ["a"], "a"), 3, 0, 0],
    ["between nodes every executed node is finished", task(4, 0, ["a", "b"], null), 0, 1, 50],
    ["a running node not yet listed as executed is not negative", task(4, 0, [], "a"), 5, 10, 12.5],
    ["everything cached and nothing run is 0, not NaN", task(3, 3, [], null), 0, 1, 0],
    ["never above 100", task(2, 1, ["a", "b", "c"], null), 0, 1, 100],
    ["rounded to one decimal", task(3, 0, ["a"], null), 0, 1, 33.3],
  ])("%s", (_what, live, value, max, percent) => {
    expect(overallPercent(live, value, max)).toBe(percent);
  });
});
