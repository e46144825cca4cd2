import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { currentFeatures } from "./current-release.ts";
import { Executor } from "./executor.ts";
import { handle, routePath } from "./http-routes.ts";
import { defaultFakeOptions, zeroCounters, type FakeComfyCounters, type FakeComfyOptions } from "./options.ts";
import { FakeStore } from "./store.ts";
import { WsHub } from "./ws-hub.ts";

export type { FakeComfyCounters, FakeComfyOptions, FakeComfyVersion } from "./options.ts";
export { decodePng, encodePng, solidRaster, type Raster } from "./png.ts";

/** Observers that are not knobs: fixed at start. */
export interface FakeComfyHooks {
  /** Every JSON WebSocket message, just before it is sent (the benchmarks timestamp `progress`). */
  onSend?: (message: unknown) => void;
}

/** A running fake ComfyUI. */
export interface FakeComfy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly counters: FakeComfyCounters;
  readonly options: Readonly<FakeComfyOptions>;
  /** Changes knobs at runtime. */
  setOptions(patch: Partial<FakeComfyOptions>): void;
  /** Listens again on the same port after stop()/kill(); queue and files survive. */
  start(): Promise<void>;
  /** Closes cleanly: WebSockets get a close frame, HTTP connections are ended. */
  stop(): Promise<void>;
  /** Dies abruptly: every socket (HTTP and WebSocket) is destroyed and the port closed. */
  kill(): Promise<void>;
  /** Drops every WebSocket without a close frame but keeps serving. */
  dropConnections(): void;
  /** Stores an input file as if uploaded (for LoadImage). */
  putInput(name: string, bytes: Uint8Array): void;
  /** Reads an output file the fake produced. */
  getOutput(name: string): Uint8Array | undefined;
}

/**
 * Starts a fake ComfyUI on 127.0.0.1 (port 0 unless given): real HTTP and WebSocket, behaving as
 * the protocol document and the recorded traces (0.3.14, and 0.8.0 for `current`) describe.
 */
export async function startFakeComfy(options: Partial<FakeComfyOptions> & FakeComfyHooks & { port?: number } = {}): Promise<FakeComfy> {
  const { port: wantedPort = 0, onSend, ...knobs } = options;
  const store = new FakeStore({ ...defaultFakeOptions, ...knobs }, zeroCounters());
  const hub: WsHub = new WsHub({
    queueRemaining: () => store.queueRemaining(),
    executingFor: (clientId) => {
      const running = store.running;
      if (running === null || running.extraData.client_id !== clientId || executor.currentNode === null) return null;
      return { node: executor.currentNode };
    },
    serverFeatures: () => (store.options.version === "current" ? currentFeatures() : null),
    onFeatureFlags: () => {
      store.counters.featureFlags += 1;
    },
    onConnection: () => {
      store.counters.wsConnections += 1;
    },
    muted: () => store.options.muteSockets,
    onSend,
  });
  const executor = new Executor(store, hub);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = wantedPort;

  const listen = async (): Promise<void> => {
    const created = createServer((req, res) => {
      handle({ store, executor, hub }, req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    created.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    created.on("upgrade", (req, socket, head) => {
      const url = new URL(req.url ?? "/", "http://fake");
      if (routePath(url) !== "/ws") return socket.destroy();
      hub.upgrade(req, socket, head, url.searchParams.get("clientId"));
    });
    await new Promise<void>((resolve, reject) => {
      created.once("error", reject);
      created.listen(port, "127.0.0.1", () => resolve());
    });
    const address = created.address();
    if (address !== null && typeof address === "object") port = address.port;
    server = created;
  };

  const close = async (abrupt: boolean): Promise<void> => {
    const current = server;
    server = null;
    if (abrupt) hub.dropAll();
    else hub.closeAll();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (current !== null) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    counters: store.counters,
    get options() {
      return store.options;
    },
    setOptions: (patch) => {
      store.options = { ...store.options, ...patch };
      store.releaseHeld();
      // Un-pausing must start whatever queued meanwhile.
      executor.kick();
    },
    start: async () => {
      if (server === null) await listen();
    },
    stop: () => close(false),
    kill: () => close(true),
    dropConnections: () => hub.dropAll(),
    putInput: (name, bytes) => {
      store.inputs.set(name, bytes);
    },
    getOutput: (name) => store.outputs.get(name),
  };
}
