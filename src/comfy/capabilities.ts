import type { ServerFeatures } from "./schemas.ts";

/** What a server's release supports beyond 0.3.x. */
export interface Capabilities {
  /** POST /prompt honours a client-chosen `prompt_id`; POST /interrupt takes one. */
  clientPromptId: boolean;
  /** It sends `progress_state` messages. */
  progressState: boolean;
}

/**
 * The rule: a server that has `GET /features` supports both. `/features` came in a later
 * release than client prompt ids (mid-2025), so it is a safe sign, and it needs no version
 * parsing (`comfyui_version` is missing on old releases and free-form on forks).
 */
export function capabilitiesOf(features: ServerFeatures | null): Capabilities {
  const newer = features !== null;
  return { clientPromptId: newer, progressState: newer };
}

/**
 * One server's capability record: fetched on first need, re-fetched on `refresh()` (the pool
 * calls it whenever the server comes back, since it may have been upgraded or downgraded).
 */
export class CapabilityCache {
  private pending: Promise<Capabilities> | null = null;
  private last: Capabilities | null = null;

  constructor(private readonly fetchFeatures: () => Promise<ServerFeatures | null>) {}

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
    const fetched: Promise<Capabilities> = this.fetchFeatures().then(
      (features) => {
        this.last = capabilitiesOf(features);
        return this.last;
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
    this.last = { ...(this.last ?? { progressState: false }), clientPromptId: false };
    this.pending = Promise.resolve(this.last);
  }
}
