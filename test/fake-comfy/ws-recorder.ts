import { WebSocket } from "ws";

/** A recorded frame: a JSON message, or a binary frame summarised like the traces do. */
export type Recorded =
  | { kind: "json"; type: string; data: Record<string, unknown> }
  | { kind: "binary"; event: number; format: number; len: number; bytes: Uint8Array; metadata?: Record<string, unknown> };

/** A raw test client of `/ws` that records everything it receives. */
export interface WsRecorder {
  readonly frames: Recorded[];
  /** Resolves when a frame matching `predicate` has arrived (checks already received ones too). */
  waitFor(predicate: (frame: Recorded) => boolean, timeoutMs?: number): Promise<Recorded>;
  readonly closed: Promise<number>;
  close(): void;
}

/** Opens `/ws?clientId=` on a fake and waits for the welcome `status` (and, if sent, the `feature_flags` answer). */
export async function recordWs(baseUrl: string, clientId: string | null, featureFlags?: Record<string, unknown>): Promise<WsRecorder> {
  const url = `${baseUrl.replace(/^http/, "ws")}/ws${clientId === null ? "" : `?clientId=${clientId}`}`;
  const ws = new WebSocket(url);
  const frames: Recorded[] = [];
  const waiters = new Set<() => void>();
  ws.on("message", (data, isBinary) => {
    const buf = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
    if (isBinary && buf.readUInt32BE(0) === 4) {
      // Event 4 (current releases): metadata length, metadata JSON, then the image.
      const end = 8 + buf.readUInt32BE(4);
      const metadata = JSON.parse(buf.subarray(8, end).toString("utf8")) as Record<string, unknown>;
      frames.push({ kind: "binary", event: 4, format: 0, len: buf.length - end, bytes: new Uint8Array(buf.subarray(end)), metadata });
    } else if (isBinary) {
      frames.push({ kind: "binary", event: buf.readUInt32BE(0), format: buf.readUInt32BE(4), len: buf.length - 8, bytes: new Uint8Array(buf.subarray(8)) });
    } else {
      const msg = JSON.parse(buf.toString("utf8")) as { type: string; data: Record<string, unknown> };
      frames.push({ kind: "json", type: msg.type, data: msg.data });
    }
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  const recorder: WsRecorder = {
    frames,
    closed,
    close: () => ws.terminate(),
    waitFor: (predicate, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hit = frames.find(predicate);
          if (hit === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching ws frame within ${timeoutMs} ms; got ${frames.map(label).join(", ")}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  if (featureFlags !== undefined) ws.send(JSON.stringify({ type: "feature_flags", data: featureFlags }));
  await recorder.waitFor((f) => f.kind === "json" && f.type === "status");
  if (featureFlags !== undefined) await recorder.waitFor((f) => f.kind === "json" && f.type === "feature_flags");
  return recorder;
}

/** A short label per frame, e.g. `executing:2`, `progress`, `BINARY`. */
export function label(frame: Recorded): string {
  if (frame.kind === "binary") return "BINARY";
  if (frame.type === "executing") return `executing:${String(frame.data.node)}`;
  return frame.type;
}

/** True for the JSON message ending prompt `promptId` (`executing` with `node: null`). */
export function isDone(promptId: string) {
  return (f: Recorded) => f.kind === "json" && f.type === "executing" && f.data.node === null && f.data.prompt_id === promptId;
}
