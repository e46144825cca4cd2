/**
 * `progress_state` messages (current releases only): every node started so far with its state,
 * the whole map each time, as 0.8.0 sends it.
 */
export class ProgressState {
  private readonly nodes: Record<string, Record<string, unknown>> = {};

  constructor(
    private readonly enabled: boolean,
    private readonly promptId: string,
    private readonly send: (type: string, data: Record<string, unknown>) => void,
  ) {}

  start(id: string): void {
    this.set(id, { value: 0, max: 1, state: "running" });
  }

  update(id: string, value: number, max: number): void {
    this.set(id, { value, max, state: "running" });
  }

  finish(id: string): void {
    const max = Number(this.nodes[id]?.max ?? 1);
    this.set(id, { value: max, max, state: "finished" });
  }

  private set(id: string, fields: Record<string, unknown>): void {
    if (!this.enabled) return;
    this.nodes[id] = { ...fields, node_id: id, prompt_id: this.promptId, display_node_id: id, parent_node_id: null, real_node_id: id };
    this.send("progress_state", { nodes: structuredClone(this.nodes) });
  }
}
