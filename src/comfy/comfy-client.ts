import { randomUUID } from "node:crypto";
import { CapabilityCache, fetchFeatures, fetchJob, learnCapabilities, type Capabilities } from "./capabilities.ts";
import { ComfyNotFoundError } from "./errors.ts";
import { multipartBody, multipartFrame } from "./multipart-body.ts";
import { ensurePieceOk, pieceJson, postPieces } from "./piece-post.ts";
import { ensureOk, parseWith, readBounded, readJson, send, type FetchLike, type HttpContext } from "./http.ts";
import {
  historyResponseSchema,
  objectInfoSchema,
  queuePromptResponseSchema,
  queueResponseSchema,
  systemStatsSchema,
  uploadResponseSchema,
  type FileRef,
  type HistoryEntry,
  type JobState,
  type ObjectInfo,
  type QueuePromptResult,
  type QueueState,
  type ServerFeatures,
  type SystemStats,
  type UploadResult,
  type Workflow,
} from "./schemas.ts";
import { toValidationError } from "./validation-error.ts";

export { aheadOf, type PromptPlace } from "./prompt-place.ts";

/** How to reach one ComfyUI server. */
export interface ComfyClientOptions {
  baseUrl: string;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
  fetch?: FetchLike;
  /**
   * Told of every prompt queued through this client, with the time the POST was sent
   * (the pool counts it as load until a queue reading includes it).
   */
  onQueued?: (promptId: string, sentAt: number) => void;
  now?: () => number;
  /** Base64 `user:pass` sent as Basic auth. */
  basicAuth?: string;
  /** Largest file `view` downloads; default 64 MB. */
  maxViewBytes?: number;
  /**
   * How the submit's two POSTs (`uploadImage`, `queuePrompt`) are sent. Default: node:http on Node
   * (see piece-post.ts: the image is written as it is, never copied, and a call costs a fraction of
   * undici's `fetch`); `fetch` on Bun (its native fetch has neither cost) or when a `fetch` is
   * injected (tests that watch the calls). Every other call uses `fetch`.
   */
  transport?: "node-http" | "fetch";
}

/** What `queuePrompt` sends. */
export interface QueuePromptInput {
  prompt: Workflow;
  clientId: string;
  /**
   * Sent only to servers that accept client ids (newer releases), where a fresh UUID is chosen
   * when this is absent; 0.3.x assigns its own. The answer's id is the one to use either way.
   */
  promptId?: string;
  extraData?: Record<string, unknown>;
}

/** What `uploadImage` sends (multipart field `image`). */
export interface UploadImageInput {
  bytes: Uint8Array;
  filename: string;
  contentType: string;
  overwrite?: boolean;
}

/**
 * Typed access to one ComfyUI server's HTTP API. Every call has a timeout; failures to reach the
 * server become ComfyUnavailableError, a rejected prompt ComfyValidationError.
 */
export class ComfyClient {
  readonly baseUrl: string;
  private readonly ctx: HttpContext;
  private readonly capabilityCache = new CapabilityCache(() => learnCapabilities(this.ctx));
  private readonly onQueued: ComfyClientOptions["onQueued"];
  private readonly now: () => number;
  private readonly maxViewBytes: number;
  private readonly transport: "node-http" | "fetch";

  constructor(options: ComfyClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.ctx = { baseUrl: this.baseUrl, timeoutMs: options.timeoutMs ?? 10_000, fetch: options.fetch ?? fetch, basicAuth: options.basicAuth };
    this.maxViewBytes = options.maxViewBytes ?? 64 * 1024 * 1024;
    this.transport = options.transport ?? (options.fetch !== undefined || typeof Bun !== "undefined" ? "fetch" : "node-http");
    this.onQueued = options.onQueued;
    this.now = options.now ?? Date.now;
  }

  /**
   * `POST /prompt`. Throws ComfyValidationError on 400 (nothing queued). On servers that take
   * client ids the id is chosen here, and an answer naming another id makes the client stop
   * sending them (the answered id is returned: it is the one the server's messages will carry).
   */
  async queuePrompt(input: QueuePromptInput): Promise<QueuePromptResult> {
    const body: Record<string, unknown> = { prompt: input.prompt, client_id: input.clientId };
    if (input.extraData !== undefined) body.extra_data = input.extraData;
    const chosen = (await this.supportsClientPromptId()) ? (input.promptId ?? randomUUID()) : null;
    if (chosen !== null) body.prompt_id = chosen;
    const sentAt = this.now();
    const result = parseWith(this.ctx, queuePromptResponseSchema, await this.postPrompt(body), "/prompt");
    if (chosen !== null && result.promptId !== chosen) this.capabilityCache.distrustClientPromptId();
    this.onQueued?.(result.promptId, sentAt);
    return result;
  }

  /** `GET /queue`: the running item (0 or 1) and the unsorted pending items. */
  async getQueue(): Promise<QueueState> {
    return parseWith(this.ctx, queueResponseSchema, await this.getJson("queue"), "/queue");
  }

  /** `GET /history/{id}`: null while the id is unknown or not finished. */
  async getHistory(promptId: string): Promise<HistoryEntry | null> {
    const path = `history/${encodeURIComponent(promptId)}`;
    const all = parseWith(this.ctx, historyResponseSchema, await this.getJson(path), `/${path}`);
    return all[promptId] ?? null;
  }

  /** `GET /api/jobs/{id}` (servers with `capabilities.jobsApi`): null for an id it does not know (404). */
  getJob(promptId: string): Promise<JobState | null> {
    return fetchJob(this.ctx, promptId);
  }

  /** `GET /view`: the file's bytes. Throws ComfyNotFoundError on 404. */
  async view(ref: FileRef): Promise<{ bytes: Uint8Array; contentType: string }> {
    const query = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type });
    const res = await send(this.ctx, `view?${query.toString()}`);
    if (res.status === 404) {
      await res.body?.cancel();
      throw new ComfyNotFoundError(`ComfyUI has no ${ref.type} file ${ref.filename}`);
    }
    await ensureOk(this.ctx, res, "/view");
    const bytes = await readBounded(this.ctx, res, this.maxViewBytes, "/view");
    return { bytes, contentType: res.headers.get("content-type") ?? "application/octet-stream" };
  }

  /** `POST /upload/image`. Use the answered `name` in LoadImage: ComfyUI may rename duplicates. */
  async uploadImage(input: UploadImageInput): Promise<UploadResult> {
    const fields: Record<string, string> = input.overwrite === true ? { overwrite: "true" } : {};
    const file = { name: "image", filename: input.filename, contentType: input.contentType };
    if (this.transport === "node-http") {
      const frame = multipartFrame(fields, { ...file, byteLength: input.bytes.byteLength });
      const answer = await postPieces(this.ctx, "upload/image", [frame.head, input.bytes, frame.tail], frame.contentType);
      return parseWith(this.ctx, uploadResponseSchema, pieceJson(this.ctx, ensurePieceOk(this.ctx, answer, "/upload/image"), "/upload/image"), "/upload/image");
    }
    const { body, contentType } = multipartBody(fields, { ...file, bytes: input.bytes });
    const res = await send(this.ctx, "upload/image", { method: "POST", body, headers: { "content-type": contentType } });
    await ensureOk(this.ctx, res, "/upload/image");
    return parseWith(this.ctx, uploadResponseSchema, await readJson(this.ctx, res, "/upload/image"), "/upload/image");
  }

  /**
   * `POST /interrupt`. 0.3.x takes no body and stops whatever runs; newer servers given a
   * prompt id only stop that prompt.
   */
  async interrupt(promptId?: string): Promise<void> {
    const scoped = promptId !== undefined && (await this.supportsClientPromptId());
    const res = await this.post("interrupt", scoped ? { prompt_id: promptId } : undefined);
    await ensureOk(this.ctx, res, "/interrupt");
    await res.body?.cancel();
  }

  /** `POST /queue {delete}`: removes pending prompts (never a running one). Answer body is empty. */
  async deleteFromQueue(promptIds: string[]): Promise<void> {
    const res = await this.post("queue", { delete: promptIds });
    await ensureOk(this.ctx, res, "/queue");
    await res.body?.cancel();
  }

  /** `GET /system_stats`. */
  async systemStats(): Promise<SystemStats> {
    return parseWith(this.ctx, systemStatsSchema, await this.getJson("system_stats"), "/system_stats");
  }

  /** `GET /object_info`: every node class the server knows. */
  async objectInfo(): Promise<ObjectInfo> {
    return parseWith(this.ctx, objectInfoSchema, await this.getJson("object_info"), "/object_info");
  }

  /** `GET /features`, or null on releases that do not have it (404). */
  features(): Promise<ServerFeatures | null> {
    return fetchFeatures(this.ctx);
  }

  /** Whether the server takes a client-chosen `prompt_id` (and scoped interrupts); cached, see CapabilityCache. */
  async supportsClientPromptId(): Promise<boolean> {
    return (await this.capabilityCache.get()).clientPromptId;
  }

  /** The capabilities, learned from the server on first need (see CapabilityCache). */
  getCapabilities(): Promise<Capabilities> {
    return this.capabilityCache.get();
  }

  /** The cached capabilities, null until first learned. */
  get capabilities(): Capabilities | null {
    return this.capabilityCache.known;
  }

  /** Re-learns the capabilities now: call when the server comes back (it may run another release). */
  refreshCapabilities(): Promise<Capabilities> {
    return this.capabilityCache.refresh();
  }

  /** `POST /prompt` and its JSON answer; a 400 that names what is wrong is a ComfyValidationError. */
  private async postPrompt(body: Record<string, unknown>): Promise<unknown> {
    if (this.transport === "node-http") {
      const answer = await postPieces(this.ctx, "prompt", [Buffer.from(JSON.stringify(body))], "application/json");
      if (answer.status === 400) {
        const error = toValidationError(pieceJson(this.ctx, answer, "/prompt"));
        if (error !== null) throw error;
      }
      return pieceJson(this.ctx, ensurePieceOk(this.ctx, answer, "/prompt"), "/prompt");
    }
    const res = await this.post("prompt", body);
    if (res.status === 400) {
      const json = await readJson(this.ctx, res, "/prompt");
      const error = toValidationError(json);
      if (error !== null) throw error;
    }
    await ensureOk(this.ctx, res, "/prompt");
    return readJson(this.ctx, res, "/prompt");
  }

  private async getJson(path: string): Promise<unknown> {
    const res = await send(this.ctx, path);
    await ensureOk(this.ctx, res, `/${path}`);
    return readJson(this.ctx, res, `/${path}`);
  }

  private post(path: string, body: unknown): Promise<Response> {
    if (body === undefined) return send(this.ctx, path, { method: "POST" });
    const headers = { "content-type": "application/json" };
    return send(this.ctx, path, { method: "POST", headers, body: JSON.stringify(body) });
  }
}

