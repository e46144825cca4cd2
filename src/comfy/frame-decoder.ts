import { decodeBinaryFrame } from "./binary-frame.ts";
import { parseComfyMessage, type ComfyMessage, type ExecutingMessage } from "./events.ts";
import { PromptTracker } from "./prompt-tracker.ts";
import { isUnattributed, runningPromptOf, type QueueReader } from "./running-prompt.ts";

/** A preview image, attributed to the prompt its metadata names, else to the one executing when it arrived (null if unknown). */
export interface PreviewEvent {
  type: "preview";
  promptId: string | null;
  format: "jpeg" | "png";
  bytes: Uint8Array;
}

export interface FrameDecoderOptions {
  /** The stream's client id: a running prompt of this client is ours. */
  clientId: string;
  /** Names the prompt of an `executing` that arrives without one; without it, passed on as is. */
  readQueue?: QueueReader;
  emit: (event: ComfyMessage | PreviewEvent) => void;
}

/**
 * Turns one stream's frames into typed events, in arrival order: JSON messages parsed, preview
 * frames attributed to the prompt executing when they came. The one message that arrives without
 * its prompt (the `executing` a server re-sends to a client that reconnects mid-run) is named from
 * `/queue` first, and the frames behind it wait so they are attributed alike.
 */
export class FrameDecoder {
  private readonly tracker = new PromptTracker();
  /** Frames received while an unattributed `executing` is being resolved, in arrival order. */
  private held: unknown[] | null = null;
  private stopped = false;

  constructor(private readonly options: FrameDecoderOptions) {}

  push(data: unknown): void {
    if (this.held !== null) {
      this.held.push(data);
      return;
    }
    if (typeof data === "string") {
      const message = parseComfyMessage(data);
      if (message === null) return;
      if (message.type === "executing" && isUnattributed(message) && this.options.readQueue !== undefined) {
        this.held = [];
        void this.attribute(message, this.options.readQueue);
        return;
      }
      this.tracker.observe(message);
      this.options.emit(message);
      return;
    }
    const bytes = toBytes(data);
    const preview = bytes === null ? null : decodeBinaryFrame(bytes);
    if (preview === null) return;
    // Event 4 names its prompt; event 1 belongs to whatever the server said it was executing last.
    this.options.emit({ type: "preview", promptId: preview.promptId ?? this.tracker.current, format: preview.format, bytes: preview.bytes });
  }

  /** The connection dropped: what was executing is unknown until the server says again. */
  reset(): void {
    this.tracker.reset();
  }

  /** Nothing more is emitted, not even the frames held now. */
  stop(): void {
    this.stopped = true;
  }

  private async attribute(message: ExecutingMessage, readQueue: QueueReader): Promise<void> {
    const promptId = await runningPromptOf(readQueue, this.options.clientId);
    const held = this.held ?? [];
    this.held = null;
    if (this.stopped) return;
    const named: ExecutingMessage = promptId === null ? message : { ...message, data: { ...message.data, prompt_id: promptId } };
    this.tracker.observe(named);
    this.options.emit(named);
    for (const data of held) this.push(data);
  }
}

function toBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}
