import type { ComfyMessage } from "./events.ts";

type ProgressStateMessage = Extract<ComfyMessage, { type: "progress_state" }>;

/** A whole-graph progress reading: the node that moved, its own value and max, and the prompt's percent. */
export interface GraphProgressUpdate {
  node: string;
  value: number;
  max: number;
  percent: number | null;
}

/**
 * The whole prompt's progress from `progress_state` (current releases), which reports every node
 * started so far, also those that show no `progress` of their own. Same rule as for `progress`
 * alone: cached nodes count neither as work to run nor as work done, so a mostly cached prompt
 * still goes from 0 to 100.
 */
export class GraphProgress {
  private cached = new Set<string>();
  private readonly previous = new Map<string, string>();
  private lastPercent: number | null = 0;

  /** `totalNodes`: nodes in the prompt, null when unknown (then percent is null). */
  constructor(private readonly totalNodes: number | null) {}

  /** Remembers which nodes `execution_cached` named. */
  setCached(nodes: readonly string[]): void {
    this.cached = new Set(nodes);
  }

  /**
   * Reads one `progress_state`; returns an update when the percent changed (a node that merely
   * started, at 0, moves nothing), naming the node whose state changed, the running one first.
   */
  update(message: ProgressStateMessage): GraphProgressUpdate | null {
    const nodes = Object.entries(message.data.nodes).filter(([id]) => !this.cached.has(id));
    const changed = nodes.filter(([id, n]) => this.previous.get(id) !== `${n.value}/${n.max}:${n.state}`);
    for (const [id, n] of nodes) this.previous.set(id, `${n.value}/${n.max}:${n.state}`);
    const percent = this.percentOf(nodes.map(([, n]) => n));
    if (percent === this.lastPercent) return null;
    this.lastPercent = percent;
    const [id, n] = changed.find(([, c]) => c.state === "running") ?? changed.at(-1) ?? nodes.at(-1) ?? ["", { value: 0, max: 0 }];
    return { node: id, value: n.value, max: n.max, percent };
  }

  private percentOf(nodes: Array<{ value: number; max: number; state: string }>): number | null {
    if (this.totalNodes === null) return null;
    const toRun = Math.max(1, this.totalNodes - this.cached.size);
    const done = nodes.reduce((sum, n) => sum + (n.state === "finished" ? 1 : n.max > 0 ? Math.min(1, n.value / n.max) : 0), 0);
    return Math.min(100, Math.round((done / toRun) * 1000) / 10);
  }
}
