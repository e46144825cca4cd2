import { onTestFinished } from "vitest";
import WebSocket from "ws";
import { defaultAuthHeaders } from "./credentials.ts";

export interface WsMessage {
  type: string;
  [key: string]: unknown;
}

/** A progress client: records every JSON message and binary frame, and waits for conditions. */
export interface ProgressClient {
  socket: WebSocket;
  messages: WsMessage[];
  binary: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
  waitFor(predicate: (message: WsMessage) => boolean, timeoutMs?: number): Promise<WsMessage>;
  send(message: unknown): void;
  close(): void;
}

export async function openProgressClient(url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<ProgressClient> {
  const socket = new WebSocket(url, options.protocols, { headers: options.headers ?? defaultAuthHeaders(url) });
  const messages: WsMessage[] = [];
  const binary: Buffer[] = [];
  const waiters: Array<() => void> = [];
  socket.on("message", (data, isBinary) => {
    if (isBinary) binary.push(data as Buffer);
    else messages.push(JSON.parse(String(data)) as WsMessage);
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on("close", (code, reason) => {
      resolve({ code, reason: String(reason) });
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  onTestFinished(() => socket.terminate());
  const waitFor = (predicate: (message: WsMessage) => boolean, timeoutMs = 15_000) =>
    new Promise<WsMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message; got ${JSON.stringify(messages.slice(-5))}`)), timeoutMs);
      const check = () => {
        const found = messages.find(predicate);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        } else if (socket.readyState === WebSocket.CLOSED) {
          clearTimeout(timer);
          reject(new Error(`socket closed; got ${JSON.stringify(messages.slice(-5))}`));
        } else waiters.push(check);
      };
      check();
    });
  return { socket, messages, binary, closed, waitFor, send: (m) => socket.send(JSON.stringify(m)), close: () => socket.close() };
}

export const isFinalMessage = (message: WsMessage) => ["succeeded", "failed", "cancelled"].includes(message.type);
