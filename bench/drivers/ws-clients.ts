import WebSocket from "ws";
import { driverConfig, emit, runDriver } from "./driver-io.ts";

/** Many progress-WebSocket clients in one process. */
export interface WsClientsConfig {
  /** `ws://host:port/api/ws?frontend=style[&taskId=...]` */
  url: string;
  /** The credential of the upgrade. */
  headers?: Record<string, string>;
  clients: number;
  /**
   * `progress`: wait for `subscribed`, record when each `progress` arrives, finish when every client
   * saw a final message (or `timeoutMs`). `idle`: connect, report, and hold the sockets until killed.
   */
  mode: "progress" | "idle";
  timeoutMs: number;
}

const finalTypes = new Set(["succeeded", "failed", "cancelled"]);
const now = () => performance.timeOrigin + performance.now();
/** Handshakes in flight at once: a thousand at the same instant would mostly measure the accept backlog. */
const connectBatch = 50;

// autocannon speaks HTTP only, so WebSocket fan-out gets this small driver on the same `ws` client
// library the tests use. It runs in its own process so that parsing 100,000 messages is not charged
// to the gateway or to the fakes that timestamp the sends.
runDriver(async () => {
  const config = driverConfig<WsClientsConfig>();
  const sockets: WebSocket[] = [];
  /** received[client] = value → arrival time of that client's `progress` with that value. */
  const received: Array<Record<number, number>> = [];
  const subscribed: Array<Promise<void>> = [];
  const finished: Array<Promise<string>> = [];
  let closedEarly = 0;
  const closeCodes: Record<string, number> = {};
  const started = now();
  for (let i = 0; i < config.clients; i += connectBatch) {
    const batch = Array.from({ length: Math.min(connectBatch, config.clients - i) }, () => connect());
    await Promise.all(batch);
  }

  function connect(): Promise<void> {
    const index = sockets.length;
    const socket = new WebSocket(config.url, { headers: config.headers });
    sockets.push(socket);
    received[index] = {};
    let onSubscribed!: () => void;
    let onFinal!: (type: string) => void;
    subscribed.push(new Promise<void>((resolve) => (onSubscribed = resolve)));
    finished.push(new Promise<string>((resolve) => (onFinal = resolve)));
    socket.on("message", (data, isBinary) => {
      if (isBinary) return;
      const at = now();
      const message = JSON.parse(String(data)) as { type: string; value?: number };
      if (message.type === "subscribed") onSubscribed();
      else if (message.type === "progress" && typeof message.value === "number") received[index]![message.value] = at;
      else if (finalTypes.has(message.type)) onFinal(message.type);
    });
    socket.on("close", (code) => {
      closedEarly += 1;
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
      onFinal(`closed ${code}`);
      onSubscribed();
    });
    socket.on("error", () => undefined);
    return new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
  }

  if (config.mode === "progress") await withTimeout(Promise.all(subscribed), config.timeoutMs, "not every client was subscribed");
  void emit("ready", { connected: sockets.length, connectMs: now() - started });

  if (config.mode === "idle") {
    // Held open until the orchestrator has read the gateway's memory and stops this process.
    process.once("SIGTERM", () => {
      const open = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
      void emit("result", { open, closedEarly, closeCodes }).then(() => process.exit(0));
    });
    setInterval(() => undefined, 1 << 30);
    return;
  }
  const finals = await withTimeout(Promise.all(finished), config.timeoutMs, "not every client saw the end of the job").catch(() => finished.map(() => "timeout"));
  const outcomes: Record<string, number> = {};
  for (const type of finals) outcomes[type] = (outcomes[type] ?? 0) + 1;
  for (const socket of sockets) socket.terminate();
  await emit("result", { received, outcomes, closeCodes });
  process.exit(0);
});

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}
