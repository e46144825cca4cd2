import { redactFields, redactQueryParams } from "./redact.ts";
import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";

type Fields = Record<string, unknown>;

/** The little logging surface the gateway needs; one JSON line per event. */
export interface Logger {
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

/**
 * Fields whose values never reach a log line, at the top level and one level down (pino's
 * redaction): credentials an error or a config object might carry by accident.
 */
const secretKeys = ["password", "token", "authorization", "cookie", "apiKey", "secret", "accessKeyId", "accessKeySecret", "databaseUrl", "redisUrl", "idempotencyKey"];
export const redactedPaths = secretKeys.flatMap((key) => [key, `*.${key}`]);

/** Passwords in URLs (`mysql://u:secret@h`) and token-like query parameters inside free-text values. */
function scrub(fields: Fields | undefined): Fields {
  if (!fields) return {};
  const out: Fields = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] =
      typeof value === "string"
        ? redactQueryParams(value).replace(/(\w+:\/\/[^:@\s/]+:)[^@\s]+@/g, "$1[redacted]@").replace(/([?&](?:token|key|secret|password|signature)=)[^&\s]+/gi, "$1[redacted]")
        : value;
  }
  return out;
}

/** Fields that differ between otherwise identical warnings (they do not make a warning new). */
const volatileFields = new Set(["requestId", "taskId", "durationMs", "time"]);

export interface LoggerOptions {
  level?: "debug" | "info" | "warn" | "error";
  /** Where lines go; stdout by default. */
  destination?: DestinationStream;
  /** Identical warnings and errors within this window are counted, not written (default 10 s). */
  repeatWindowMs?: number;
  now?: () => number;
}

/**
 * Keeps a client-driven error from flooding the log: the first of a kind is written, repeats in
 * the window are counted, and the next one after the window carries `repeated: N`.
 */
class RepeatFilter {
  private readonly seen = new Map<string, { until: number; repeated: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** The number of suppressed repeats to report with this line, or null to drop the line. */
  admit(level: string, message: string, fields: Fields | undefined): number | null {
    const stable = Object.entries(fields ?? {}).filter(([key]) => !volatileFields.has(key));
    const key = `${level}\u0000${message}\u0000${JSON.stringify(stable)}`;
    const now = this.now();
    const entry = this.seen.get(key);
    if (entry && now < entry.until) {
      entry.repeated += 1;
      return null;
    }
    if (this.seen.size >= 1_000) this.seen.clear(); // bounded: forgetting only lets a line through
    this.seen.set(key, { until: now + this.windowMs, repeated: 0 });
    return entry?.repeated ?? 0;
  }
}

/** How long an info line may wait in the stdout buffer before it is written. */
const stdoutFlushMs = 200;

/**
 * Stdout, written in blocks: one write syscall per line was the largest part of the access log's
 * cost (about 14 % of a poll's CPU). Lines wait at most `stdoutFlushMs`; warnings and errors are
 * written at once (createLogger flushes after them), and whatever waits is written on exit.
 */
function bufferedStdout(): DestinationStream & { flushNow(): void } {
  const destination = pino.destination({ dest: 1, sync: true, minLength: 4096, periodicFlush: stdoutFlushMs });
  const flushNow = () => {
    try {
      destination.flushSync();
    } catch {
      // stdout busy (EAGAIN): the lines stay buffered for the next flush.
    }
  };
  process.once("exit", flushNow);
  return Object.assign(destination, { flushNow });
}

/** The gateway's logger: pino JSON lines with secret fields redacted and repeated warnings rate-limited. */
export function createLogger(options: LoggerOptions = {}): Logger & { pino: PinoLogger } {
  const stdout = options.destination ? undefined : bufferedStdout();
  const base = pino(
    {
      level: options.level ?? "info",
      // `message`, as the gateway's lines always had: alert rules and log queries keep working.
      messageKey: "message",
      base: { service: "aipack" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactedPaths, censor: "[redacted]" },
    },
    options.destination ?? stdout!,
  );
  const repeats = new RepeatFilter(options.repeatWindowMs ?? 10_000, options.now ?? Date.now);
  const limited = (level: "warn" | "error") => (message: string, fields?: Fields) => {
    const repeated = repeats.admit(level, message, fields);
    if (repeated === null) return;
    base[level](repeated > 0 ? { ...scrub(fields), repeated } : scrub(fields), redactQueryParams(message));
    stdout?.flushNow();
  };
  return {
    pino: base,
    info: (message, fields) => base.info(scrub(fields), redactQueryParams(message)),
    warn: limited("warn"),
    error: limited("error"),
  };
}

/** For tests: keeps every entry so a test can assert what was logged. */
export function memoryLogger(): Logger & { entries: Array<{ level: string; message: string; fields?: Fields }> } {
  const entries: Array<{ level: string; message: string; fields?: Fields }> = [];
  const push = (level: string) => (message: string, fields?: Fields) => {
    entries.push({ level, message: redactQueryParams(message), fields: redactFields(fields) });
  };
  return { entries, info: push("info"), warn: push("warn"), error: push("error") };
}
