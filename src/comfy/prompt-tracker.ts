import type { ComfyMessage } from "./events.ts";

/**
 * Remembers which prompt is executing, because preview frames carry no prompt id on the wire:
 * they belong to whatever the server said it was executing last.
 */
export class PromptTracker {
  private promptId: string | null = null;

  /** The prompt currently executing, or null when idle or unknown. */
  get current(): string | null {
    return this.promptId;
  }

  /** Updates from one message. */
  observe(message: ComfyMessage): void {
    switch (message.type) {
      case "execution_start":
        this.promptId = message.data.prompt_id;
        break;
      case "executing":
        // An unattributed `executing` (see ExecutingMessage) leaves the prompt unknown.
        if (message.data.node !== null) this.promptId = message.data.prompt_id ?? null;
        else if (this.promptId === message.data.prompt_id) this.promptId = null;
        break;
      default:
        break;
    }
  }

  /** Forgets the current prompt (after a disconnect nothing is known). */
  reset(): void {
    this.promptId = null;
  }
}
