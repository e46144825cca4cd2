import { randomUUID } from "node:crypto";
import { onTestFinished } from "vitest";
import { startFakeComfy, type FakeComfy, type FakeComfyOptions } from "./index.ts";
import { encodePng, solidRaster } from "./png.ts";
import { readTrace } from "./traces.ts";
import { recordWs, type WsRecorder } from "./ws-recorder.ts";

/** The traced model-free workflows by name. */
export type TracedWorkflows = Record<"invert" | "empty" | "progress" | "runtime_error" | "interrupt", Record<string, unknown>>;

/** Loads `workflows-model-free.json`. */
export function tracedWorkflows(): TracedWorkflows {
  return readTrace<TracedWorkflows>("workflows-model-free.json");
}

/** Starts a fake stopped when the test finishes, with `probe_in.png` already uploaded. */
export async function fakeForTest(options: Partial<FakeComfyOptions> = {}): Promise<FakeComfy> {
  const fake = await startFakeComfy(options);
  onTestFinished(() => fake.kill());
  fake.putInput("probe_in.png", encodePng(solidRaster(4, 3, 0x102030)));
  return fake;
}

/** Opens a recorder with a fresh client id, closed when the test finishes. */
export async function socketForTest(
  fake: FakeComfy,
  clientId: string | null = `test-${randomUUID()}`,
  featureFlags?: Record<string, unknown>,
): Promise<WsRecorder & { clientId: string | null }> {
  const recorder = await recordWs(fake.url, clientId, featureFlags);
  onTestFinished(() => recorder.close());
  return Object.assign(recorder, { clientId });
}

/** Posts a raw body to `/prompt` and returns status + JSON. */
export async function postPrompt(fake: FakeComfy, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${fake.url}/prompt`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000), // a bound for a hung fake, not a speed expectation
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Queues a workflow for `clientId` and returns its prompt id. */
export async function queue(fake: FakeComfy, prompt: unknown, clientId: string | null, extra: Record<string, unknown> = {}): Promise<string> {
  const { status, json } = await postPrompt(fake, { prompt, ...(clientId === null ? {} : { client_id: clientId }), ...extra });
  if (status !== 200) throw new Error(`prompt rejected: ${JSON.stringify(json)}`);
  return String(json.prompt_id);
}
