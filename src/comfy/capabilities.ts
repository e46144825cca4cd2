import { ensureOk, parseWith, readJson, send, type HttpContext } from "./http.ts";
import { featuresSchema, jobResponseSchema, type JobState, type ServerFeatures } from "./schemas.ts";

/** What a server's release supports beyond 0.3.x. */
export interface Capabilities {
  /** POST /prompt honours a client-chosen `prompt_id`; POST /interrupt takes one. */
  clientPromptId: boolean;
  /** It sends `progress_state` messages: the whole graph's progress. */
  progressState: boolean;
  /** A client that sends `feature_flags` on connect gets previews as event 4, naming their prompt. */
  previewMetadata: boolean;
  /** `GET /api/jobs/{id}` tells a job's state in one call (queued, running or its history). */
  jobsApi: boolean;
}

/** A 0.3.x server: none of the above. */
export const legacyCapabilities: Capabilities = { clientPromptId: false, progressState: false, previewMetadata: false, jobsApi: false };

/**
 * The rule: a server that has `GET /features` takes client prompt ids and sends `progress_state`.
 * `/features` came in a later release than client prompt ids (mid-2025), so it is a safe sign, and
 * it needs no version parsing (`comfyui_version` is missing on old releases and free-form on forks).
 * Preview metadata is what `/features` says; the jobs API came later still, so it is probed
 * (`jobsApi`: whether `GET /api/jobs` answered).
 */
export function capabilitiesOf(features: ServerFeatures | null, jobsApi = false): Capabilities {
  if (features === null) return legacyCapabilities;
  return { clientPromptId: true, progressState: true, previewMetadata: features.supports_preview_metadata === true, jobsApi };
}

/** `GET /features`, or null on releases that do not have it (404). */
export async function fetchFeatures(ctx: HttpContext): Promise<ServerFeatures | null> {
  const res = await send(ctx, "features");
  if (res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  await ensureOk(ctx, res, "/features");
  return parseWith(ctx, featuresSchema, await readJson(ctx, res, "/features"), "/features");
}

/** `/features`, and on servers that have it whether `/api/jobs` answers (it came in a later release). */
export async function learnCapabilities(ctx: HttpContext): Promise<Capabilities> {
  const features = await fetchFeatures(ctx);
  if (features === null) return legacyCapabilities;
  const probe = await send(ctx, "api/jobs?status=pending&limit=1");
  await probe.body?.cancel();
  return capabilitiesOf(features, probe.ok);
}

/** `GET /api/jobs/{id}`: null for an id the server does not know (404). */
export async function fetchJob(ctx: HttpContext, promptId: string): Promise<JobState | null> {
  const path = `api/jobs/${encodeURIComponent(promptId)}`;
  const res = await send(ctx, path);
  if (res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  await ensureOk(ctx, res, `/${path}`);
  return parseWith(ctx, jobResponseSchema, await readJson(ctx, res, `/${path}`), `/${path}`);
}

/**
 * One server's capability record: fetched on first need, re-fetched on `refresh()` (the pool
 * calls it whenever the server comes back, since it may have been upgraded or downgraded).
 */
export class CapabilityCache {
  private pending: Promise<Capabilities> | null = null;
  private last: Capabilities | null = null;

  constructor(private readonly learn: () => Promise<Capabilities>) {}

  /** The last answer, or null before the first one arrived. */
  get known(): Capabilities | null {
    return this.last;
  }

  /** The capabilities, fetching them if none are cached; a failed fetch is retried next time. */
  get(): Promise<Capabilities> {
    return this.pending ?? this.refresh();
  }

  /** Fetches again now; concurrent `get()` calls wait for this answer. */
  refresh(): Promise<Capabilities> {
    const fetched: Promise<Capabilities> = this.learn().then(
      (capabilities) => {
        this.last = capabilities;
        return capabilities;
      },
      (error: unknown) => {
        if (this.pending === fetched) this.pending = null;
        throw error;
      },
    );
    this.pending = fetched;
    return fetched;
  }

  /** The server ignored a client prompt id although it looked new enough: stop sending them. */
  distrustClientPromptId(): void {
    this.last = { ...(this.last ?? legacyCapabilities), clientPromptId: false };
    this.pending = Promise.resolve(this.last);
  }
}
