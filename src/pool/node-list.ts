import { backoffDelay } from "../comfy/backoff.ts";
import type { ServerStatus } from "./schemas.ts";

/** Retry bounds for a failed `/object_info`: it is large, so a failing server is not asked per submit. */
const retry = { minMs: 2_000, maxMs: 60_000 };

/**
 * What a server's `/object_info` said: its node classes and the values of its choice inputs (model
 * files among them) once known, else why not, and when the next attempt is due (exponential
 * backoff after failures).
 */
export class NodeList {
  classes: ReadonlySet<string> | null = null;
  /** Every combo value of every node input (see comboChoices); null until known. */
  choices: ReadonlySet<string> | null = null;
  /** The fetch running now, shared by concurrent picks. */
  inFlight: Promise<void> | null = null;
  private fetchedAt: number | null = null;
  private error: string | null = null;
  private failures = 0;
  private retryAt = 0;

  constructor(private readonly random?: () => number) {}

  /** True when an unknown list may be fetched again (no backoff running). */
  due(now: number): boolean {
    return this.classes === null && this.inFlight === null && now >= this.retryAt;
  }

  learned(classes: ReadonlySet<string>, choices: ReadonlySet<string>, now: number): void {
    this.classes = classes;
    this.choices = choices;
    this.fetchedAt = now;
    this.error = null;
    this.failures = 0;
    this.retryAt = 0;
  }

  /** A failed fetch keeps the previous list (a refetch after a reconnect may fail while the old one holds). */
  failed(error: string, now: number): void {
    this.error = error;
    this.retryAt = now + backoffDelay(this.failures, { ...retry, ...(this.random ? { random: this.random } : {}) });
    this.failures += 1;
  }

  status(): ServerStatus["nodes"] {
    return {
      known: this.classes !== null,
      count: this.classes?.size ?? null,
      fetchedAt: this.fetchedAt,
      error: this.error,
      retryAt: this.error === null ? null : this.retryAt,
    };
  }
}
