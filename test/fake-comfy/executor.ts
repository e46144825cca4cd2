import { createHash, randomBytes } from "node:crypto";
import { encodeMetadataPreviewFrame, encodePreviewFrame } from "../../src/comfy/binary-frame.ts";
import { describeInputs, executionOrder, resolveInputs, signatures } from "./graph.ts";
import { nodeCatalog } from "./node-catalog.ts";
import { NodeFailure, nodeImpls, type NodeContext, type NodeResult } from "./node-runtime.ts";
import { encodePng, type Raster } from "./png.ts";
import { ProgressState } from "./progress-state.ts";
import { clientIdOf, toTuple, type FakeStore, type QueuedPrompt } from "./store.ts";
import type { WsHub } from "./ws-hub.ts";

class Interrupted extends Error {}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface CacheEntry {
  signature: string;
  result: NodeResult;
}

/**
 * The single worker: runs queued prompts one at a time in `number` order, sending the exact message
 * sequence of the traces and writing `/history` before the final `status` and `executing: null`.
 */
export class Executor {
  private busy = false;
  private interruptFlag = false;
  private cache = new Map<string, CacheEntry>();
  /** Node executing now (for reconnecting clients). */
  currentNode: string | null = null;

  constructor(
    private readonly store: FakeStore,
    private readonly hub: WsHub,
  ) {}

  /** Wakes the worker after a prompt was queued. */
  kick(): void {
    if (this.busy || this.store.options.paused) return;
    this.busy = true;
    void this.loop().finally(() => {
      this.busy = false;
      // A prompt queued (or an unpause) between the loop's last look and here found it busy: start it.
      if (this.store.pending.length > 0) this.kick();
    });
  }

  /** Sets the interrupt flag when `promptId` is absent or matches the running prompt. */
  interrupt(promptId?: string): void {
    if (this.store.running === null) return;
    if (promptId === undefined || this.store.running.promptId === promptId) this.interruptFlag = true;
  }

  private next(): QueuedPrompt | null {
    return this.store.options.paused ? null : this.store.takeNext();
  }

  private statusMessage() {
    return { type: "status", data: { status: { exec_info: { queue_remaining: this.store.queueRemaining() } } } };
  }

  private async loop(): Promise<void> {
    for (let item = this.next(); item !== null; item = this.next()) {
      this.store.running = item;
      this.interruptFlag = false;
      this.hub.broadcast(this.statusMessage());
      const status = await this.run(item);
      this.store.history.set(item.promptId, { prompt: toTuple(item), ...status });
      this.store.running = null;
      this.currentNode = null;
      this.store.counters.promptsFinished += 1;
      this.hub.broadcast(this.statusMessage());
      this.hub.send(clientIdOf(item), { type: "executing", data: { node: null, prompt_id: item.promptId } });
    }
  }

  private async run(item: QueuedPrompt): Promise<Record<string, unknown>> {
    const { prompt, promptId } = item;
    const client = clientIdOf(item);
    const messages: Array<[string, unknown]> = [];
    const send = (type: string, data: Record<string, unknown>, keep = false) => {
      const payload = { ...data, prompt_id: promptId, ...(keep ? { timestamp: Date.now() } : {}) };
      if (keep) messages.push([type, payload]);
      this.hub.send(client, { type, data: payload });
    };
    const order = executionOrder(prompt, item.outputs);
    const sigs = signatures(prompt, order, (id) => this.fileHash(item, id));
    const cached = order.filter((id) => this.cache.get(id)?.signature === sigs.get(id));
    // Like ComfyUI, only nodes of the current prompt stay cached.
    this.cache = new Map([...this.cache].filter(([id]) => prompt[id] !== undefined));
    send("execution_start", {}, true);
    send("execution_cached", { nodes: cached }, true);
    const values = new Map<string, unknown[]>();
    const outputs: Record<string, unknown> = {};
    const meta: Record<string, unknown> = {};
    const executed: string[] = [];
    const progress = new ProgressState(this.store.options.version === "current", promptId, send);
    let first = true;
    for (const id of order) {
      const classType = String(prompt[id]?.class_type);
      const isOutput = nodeCatalog[classType]?.outputNode === true;
      const hit = cached.includes(id) ? this.cache.get(id) : undefined;
      let result: NodeResult;
      if (hit !== undefined) {
        result = hit.result;
        if (isOutput) {
          send("executed", { node: id, display_node: id, output: result.ui ?? null });
          progress.finish(id);
        }
      } else {
        this.currentNode = id;
        // 0.8.0 announces a node's state before its `executing`.
        progress.start(id);
        send("executing", { node: id, display_node: id });
        if (first && this.store.options.closeSocketsMidRun) {
          this.store.options.closeSocketsMidRun = false;
          this.hub.dropAll();
        }
        const inputs = resolveInputs(prompt, id, values);
        try {
          if (this.interruptFlag) throw new Interrupted();
          if (this.store.options.failOnClass === classType || (first && this.store.options.failNextPrompt)) {
            this.store.options.failNextPrompt = false;
            throw new NodeFailure(this.store.options.failureMessage ?? `Injected failure in ${classType}`, "RuntimeError");
          }
          first = false;
          // A node's own work is not interruptible (like one torch op); only its progress steps are.
          await this.store.holdNodeWhileListed(classType);
          await sleep(this.store.options.nodeDelayMs[classType] ?? 0);
          result = await this.execute(classType, inputs, (v, m, preview) => this.step(item, id, classType, v, m, preview, send, progress));
        } catch (error) {
          const base = { node_id: id, node_type: classType, executed: [...executed] };
          if (error instanceof Interrupted) {
            send("execution_interrupted", base, true);
          } else {
            const failure = error instanceof NodeFailure ? error : new NodeFailure(String(error), "RuntimeError");
            send("execution_error", {
              ...base,
              exception_message: failure.message,
              exception_type: failure.exceptionType,
              traceback: [`  File "fake-comfy/executor.ts", in ${classType}\n`],
              current_inputs: describeInputs(inputs),
              current_outputs: [...executed, id],
            }, true);
          }
          return { outputs: {}, status: { status_str: "error", completed: false, messages }, meta: {} };
        }
        this.cache.set(id, { signature: sigs.get(id) ?? "", result });
        executed.push(id);
        if (result.ui !== undefined) send("executed", { node: id, display_node: id, output: result.ui });
        progress.finish(id);
      }
      values.set(id, result.outputs);
      if (result.ui !== undefined) {
        outputs[id] = result.ui;
        meta[id] = { node_id: id, display_node: id, parent_node: null, real_node_id: id };
      }
    }
    if (!this.store.options.omitExecutionSuccess) send("execution_success", {}, true);
    return { outputs, status: { status_str: "success", completed: true, messages }, meta };
  }

  private execute(classType: string, inputs: Record<string, unknown>, step: NodeContext["step"]): Promise<NodeResult> {
    const impl = nodeImpls[classType];
    if (impl === undefined) throw new NodeFailure(`unknown node ${classType}`);
    const store = this.store;
    return impl(inputs, {
      step,
      stepsOverride: store.options.stepsPerNode[classType],
      readInput: (name) => store.inputs.get(name),
      saveOutput: (prefix, image) => ({ filename: store.saveOutput(prefix, encodePng(image)), subfolder: "", type: "output" }),
    });
  }

  private async step(
    item: QueuedPrompt,
    id: string,
    classType: string,
    value: number,
    max: number,
    preview: Raster | undefined,
    send: (type: string, data: Record<string, unknown>) => void,
    progress: ProgressState,
  ): Promise<void> {
    await sleep(this.store.options.msPerStep);
    if (this.interruptFlag) throw new Interrupted();
    progress.update(id, value, max);
    const always = classType === "SaveImageWebsocket";
    const image = preview !== undefined && (always || this.store.options.previews) ? padded(encodePng(preview), this.store.options.previewPaddingBytes) : null;
    const client = clientIdOf(item);
    // As recorded from 0.8.0: a client that asked for metadata gets event 4 before the `progress`,
    // any other client event 1 after it (0.3.14 has only the latter).
    if (image !== null && this.store.options.version === "current") {
      const metadata = { node_id: id, prompt_id: item.promptId, display_node_id: id, parent_node_id: null, real_node_id: id, image_type: "image/png" };
      this.hub.sendBinary(client, encodeMetadataPreviewFrame(metadata, image), true);
    }
    send("progress", { value, max, node: id });
    if (image !== null) this.hub.sendBinary(client, encodePreviewFrame("png", image));
  }

  private fileHash(item: QueuedPrompt, id: string): string {
    const node = item.prompt[id];
    if (node?.class_type !== "LoadImage") return "";
    const bytes = this.store.inputs.get(String(node.inputs?.image));
    return bytes === undefined ? "missing" : createHash("sha256").update(bytes).digest("hex");
  }
}

function padded(png: Uint8Array, extra: number): Uint8Array {
  return extra > 0 ? Buffer.concat([png, randomBytes(extra)]) : png;
}
