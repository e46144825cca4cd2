import type { ExecutingMessage } from "./events.ts";
import type { QueueState } from "./schemas.ts";

/** Reads the server's queue; the pool hands in its client's `getQueue`. */
export type QueueReader = () => Promise<QueueState>;

/**
 * True for the `executing` a server sends a client that reconnects while its prompt runs: it
 * names the node but not the prompt (server.py sends `{ node }` only).
 */
export function isUnattributed(message: ExecutingMessage): boolean {
  return message.data.prompt_id === undefined && message.data.node !== null;
}

/**
 * The prompt that message is about: the server sends it only to the client whose prompt is
 * running, so it is the running item of `/queue` when that item is ours. Null when the queue
 * cannot be read or runs someone else's prompt (ours finished in between).
 */
export async function runningPromptOf(readQueue: QueueReader, clientId: string): Promise<string | null> {
  try {
    const running = (await readQueue()).running[0];
    return running !== undefined && running.clientId === clientId ? running.promptId : null;
  } catch {
    return null;
  }
}
