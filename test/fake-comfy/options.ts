/** Which ComfyUI the fake imitates: the traced 0.3.14, or a current release as recorded from 0.8.0. */
export type FakeComfyVersion = "0.3.14" | "current";

/** Behaviour knobs of the fake; every field can be changed at runtime with `setOptions`. */
export interface FakeComfyOptions {
  version: FakeComfyVersion;
  /** Delay of one progress step (and of a node without progress). */
  msPerStep: number;
  /** Progress steps per node class, overriding the node's own (KSampler: its `steps` input). */
  stepsPerNode: Record<string, number>;
  /** Extra uninterruptible run time per node class (an interrupt lands at the next node). */
  nodeDelayMs: Record<string, number>;
  /** Send a binary preview frame after every progress message (SaveImageWebsocket always does). */
  previews: boolean;
  /**
   * Incompressible bytes appended to every preview after the PNG's end (decoders stop at IEND),
   * so a test can make previews as heavy as a real 512×512 one and fill a slow client's buffers.
   */
  previewPaddingBytes: number;
  /** Every node of this class fails with an execution_error. */
  failOnClass: string | null;
  /**
   * The exception message of an injected failure (`failOnClass`, `failNextPrompt`) instead of the
   * default one; ComfyUI's own often end in a newline (an out-of-memory error's advice, say).
   */
  failureMessage: string | null;
  /** One-shot: the first node the next prompt executes fails. */
  failNextPrompt: boolean;
  /** One-shot: all WebSockets are dropped right after the next prompt's first `executing`. */
  closeSocketsMidRun: boolean;
  /**
   * Messages to WebSocket clients are dropped while set (the sockets stay open): a client misses
   * what happens meanwhile, as over a network that loses them, and learns it only by asking.
   */
  muteSockets: boolean;
  /** HTTP requests are accepted and never answered (WebSockets still work). */
  hang: boolean;
  /** Every HTTP request answers 200 with an HTML page instead of ComfyUI's JSON or image. */
  garbage: boolean;
  /** Every HTTP request answers 500. */
  fail500: boolean;
  /** Leave `comfyui_version` out of /system_stats, as older releases do. */
  omitVersion: boolean;
  /**
   * Send no `execution_success`, as releases from before it (mid-2024) did: a run's end is then
   * only its `executing` with no node, and its history.
   */
  omitExecutionSuccess: boolean;
  /** The worker starts no new prompt while set (the queue still fills); clearing it resumes. */
  paused: boolean;
  /** The files in models/checkpoints: CheckpointLoaderSimple offers them, and refuses any other. */
  checkpoints: string[];
  /** Node classes offered (in /object_info and accepted by /prompt); null offers the whole catalog. */
  nodeClasses: string[] | null;
  /** Per route path (`/queue`, `/object_info`...): wait this long before handling, like a busy server. */
  routeDelayMs: Record<string, number>;
  /** Route paths that answer 500. */
  failRoutes: string[];
  /**
   * Per route path: this answer instead of the route's own, as a proxy or another service in the
   * way would give (JSON of another shape, an HTML error page, a bodyless 204). No `contentType`
   * sends no Content-Type header.
   */
  routeAnswers: Record<string, CannedAnswer>;
  /**
   * POST /prompt queues (and the run starts) at once but its HTTP answer waits this long, so the
   * prompt's messages reach the client before its id does.
   */
  promptAnswerDelayMs: number;
  /**
   * Route paths whose requests are held (counted in `held`) until the path is removed from this
   * list: a test decides exactly when the gateway's call returns, with no timing involved. An entry
   * may name the method too (`"POST /queue"`) to hold only those requests of the path.
   */
  holdRoutes: string[];
  /**
   * Node classes whose run waits (after its `executing`, before its work) while listed: a test
   * keeps a job running as long as it needs, and lets it finish by taking the class off the list.
   */
  holdNodes: string[];
  /**
   * Keep the bytes of every upload for LoadImage (default). Off, uploads are answered as usual and
   * their names kept (a prompt naming one validates) but their bytes dropped, so running it fails:
   * for benchmarks that upload thousands of 1 MB images to a paused fake.
   */
  keepUploads: boolean;
}

/** A fixed HTTP answer (see `routeAnswers`). */
export interface CannedAnswer {
  status: number;
  body: string;
  contentType?: string;
}

/** Defaults suited to fast tests. */
export const defaultFakeOptions: FakeComfyOptions = {
  version: "0.3.14",
  msPerStep: 2,
  stepsPerNode: {},
  nodeDelayMs: {},
  previews: false,
  previewPaddingBytes: 0,
  failOnClass: null,
  failureMessage: null,
  failNextPrompt: false,
  closeSocketsMidRun: false,
  muteSockets: false,
  hang: false,
  garbage: false,
  fail500: false,
  omitVersion: false,
  omitExecutionSuccess: false,
  paused: false,
  checkpoints: ["v1-5-pruned-emaonly.safetensors"],
  nodeClasses: null,
  routeDelayMs: {},
  failRoutes: [],
  routeAnswers: {},
  promptAnswerDelayMs: 0,
  holdRoutes: [],
  holdNodes: [],
  keepUploads: true,
};

/** Request counters, for tests asserting how often the gateway hits ComfyUI. */
export interface FakeComfyCounters {
  requests: number;
  promptPosts: number;
  queueReads: number;
  queuePosts: number;
  historyReads: number;
  /** `GET /api/jobs/{id}` (current releases). */
  jobReads: number;
  views: number;
  uploads: number;
  interrupts: number;
  systemStatsReads: number;
  objectInfoReads: number;
  wsConnections: number;
  /** `feature_flags` messages received from clients (any version; only current answers them). */
  featureFlags: number;
  /** Requests held by `holdRoutes` so far. */
  held: number;
  /** Prompts whose run ended (in history), whether or not anyone was connected to hear it. */
  promptsFinished: number;
}

/** Fresh zeroed counters. */
export function zeroCounters(): FakeComfyCounters {
  return {
    requests: 0,
    promptPosts: 0,
    queueReads: 0,
    queuePosts: 0,
    historyReads: 0,
    jobReads: 0,
    views: 0,
    uploads: 0,
    interrupts: 0,
    systemStatsReads: 0,
    objectInfoReads: 0,
    wsConnections: 0,
    featureFlags: 0,
    held: 0,
    promptsFinished: 0,
  };
}
