import { describe, expect, it, onTestFinished } from "vitest";
import type { FakeComfy } from "./index.ts";
import { fakeForTest, postPrompt, queue, socketForTest, tracedWorkflows } from "./helpers.ts";
import { shapeOf } from "./shape.ts";
import { readTrace } from "./traces.ts";
import { isDone } from "./ws-recorder.ts";

type Json = Record<string, unknown>;
interface Recorded {
  status: number;
  body: unknown;
}
const recorded = (name: string) => readTrace<Recorded>(name, "0.8.0");
const bare = (name: string) => readTrace<Json>(name, "0.8.0");
const workflows = tracedWorkflows();
// What the fake does not imitate in detail: a failing node's inputs (real tensors) and its traceback.
const opaque = new Set(["current_inputs", "traceback"]);

async function get(fake: FakeComfy, path: string): Promise<Recorded> {
  const res = await fetch(`${fake.url}${path}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.json() };
}

/** Runs a workflow to its end on a fresh client and returns its prompt id. */
async function run(fake: FakeComfy, prompt: Json, extra: Json = {}): Promise<string> {
  const ws = await socketForTest(fake);
  const id = await queue(fake, prompt, ws.clientId, extra);
  await ws.waitFor(isDone(id));
  return id;
}

/** The one entry of a `/history/{id}` answer. */
const entryOf = (body: unknown) => Object.values(body as Json)[0];

describe("fake ComfyUI `current` mode answers HTTP like the recorded 0.8.0", () => {
  it("/features, and 400s: node_errors an object, a missing prompt typed, a client prompt_id not echoed", async () => {
    const fake = await fakeForTest({ version: "current" });
    expect(await get(fake, "/features")).toEqual(recorded("features.json"));
    const unknown = { prompt: { "1": { class_type: "NoSuchNode", inputs: {} } }, client_id: "x" };
    expect(await postPrompt(fake, unknown)).toEqual({ status: 400, json: recorded("prompt-400-unknown-node.json").body });
    expect(await postPrompt(fake, { ...unknown, prompt_id: "my-bad-id" })).toEqual({ status: 400, json: recorded("prompt-400-unknown-node-with-client-id.json").body });
    const badInput = { ...workflows.invert, "1": { class_type: "LoadImage", inputs: { image: "nope.png" } } };
    expect(await postPrompt(fake, { prompt: badInput, client_id: "x" })).toEqual({ status: 400, json: recorded("prompt-400-bad-input.json").body });
    expect(await postPrompt(fake, { prompt: { "1": workflows.empty["1"] }, client_id: "x" })).toEqual({ status: 400, json: recorded("prompt-400-no-output-or-bad-link.json").body });
    expect(await postPrompt(fake, { client_id: "x" })).toEqual({ status: 400, json: recorded("prompt-400-no-prompt.json").body });
  });

  it("/queue and /api/jobs while one prompt runs and two wait: items with create_time, pending / in_progress / completed jobs", async () => {
    const fake = await fakeForTest({ version: "current" });
    await run(fake, workflows.empty);
    // The first prompt's preview node steps until it is interrupted at the end, whatever the machine's speed.
    fake.setOptions({ msPerStep: 20, stepsPerNode: { SaveImageWebsocket: 100_000 } });
    const ws = await socketForTest(fake);
    const ids = [await queue(fake, workflows.progress, ws.clientId), await queue(fake, workflows.interrupt, ws.clientId)];
    ids.push(await queue(fake, workflows.progress, ws.clientId, { prompt_id: "third" }));
    onTestFinished(async () => {
      await fetch(`${fake.url}/queue`, { method: "POST", body: JSON.stringify({ clear: true }) });
      await fetch(`${fake.url}/interrupt`, { method: "POST" });
    });
    await ws.waitFor((f) => f.kind === "json" && f.type === "progress" && f.data.prompt_id === ids[0]);
    expect(shapeOf((await get(fake, "/queue")).body)).toEqual(shapeOf(bare("queue.json")));
    const jobs = await get(fake, "/api/jobs");
    expect(shapeOf(jobs)).toEqual(shapeOf(recorded("jobs-while-running.json")));
    expect((jobs.body as { jobs: Json[] }).jobs.map((j) => j.status)).toEqual(["pending", "pending", "in_progress", "completed"]);
    expect(shapeOf(await get(fake, "/api/jobs?status=pending"))).toEqual(shapeOf(recorded("jobs-status-pending.json")));
    expect(shapeOf(await get(fake, `/api/jobs/${ids[0]}`))).toEqual(shapeOf(recorded("job-running.json")));
    expect(shapeOf(await get(fake, "/api/jobs/third"))).toEqual(shapeOf(recorded("job-pending.json")));
    expect(await get(fake, "/api/jobs?status=bogus")).toEqual(recorded("jobs-bad-status.json"));
    const page = (await get(fake, "/api/jobs?limit=3&sort_order=asc")).body as { jobs: Json[]; pagination: Json };
    expect(page.pagination).toEqual({ offset: 0, limit: 3, total: 4, has_more: true });
    expect(page.jobs[0]?.status).toBe("completed");
  });

  it("/history and /api/jobs/{id} after success, failure and interrupt; unknown ids", async () => {
    const fake = await fakeForTest({ version: "current", nodeDelayMs: { ImageBlur: 1_500 } });
    const ok = await run(fake, workflows.empty, { prompt_id: "peer-new" });
    expect(shapeOf(entryOf((await get(fake, `/history/${ok}`)).body))).toEqual(shapeOf(entryOf(bare("history-blur.json"))));
    expect(shapeOf(await get(fake, `/api/jobs/${ok}`))).toEqual(shapeOf(recorded("job-completed.json")));
    const failed = await run(fake, workflows.runtime_error);
    expect(shapeOf(entryOf((await get(fake, `/history/${failed}`)).body), opaque)).toEqual(shapeOf(entryOf(bare("history-error.json")), opaque));
    expect(shapeOf(await get(fake, `/api/jobs/${failed}`), opaque)).toEqual(shapeOf(recorded("job-failed.json"), opaque));
    const ws = await socketForTest(fake);
    const stopped = await queue(fake, workflows.interrupt, ws.clientId);
    await ws.waitFor((f) => f.kind === "json" && f.type === "executing" && f.data.node === "2");
    await fetch(`${fake.url}/interrupt`, { method: "POST", body: JSON.stringify({ prompt_id: stopped }) });
    await ws.waitFor(isDone(stopped));
    expect(shapeOf(entryOf((await get(fake, `/history/${stopped}`)).body))).toEqual(shapeOf(entryOf(bare("history-interrupted.json"))));
    expect(shapeOf(await get(fake, `/api/jobs/${stopped}`))).toEqual(shapeOf(recorded("job-interrupted.json")));
    expect(await get(fake, "/api/jobs/nope")).toEqual(recorded("job-unknown.json"));
    expect(await get(fake, "/history/nope")).toEqual(recorded("history-unknown.json"));
  });

  it("a reused client prompt_id is accepted, runs again and replaces that id's history", async () => {
    const fake = await fakeForTest({ version: "current" });
    await run(fake, workflows.empty, { prompt_id: "peer-new" });
    const again = { prompt: { ...workflows.empty, "1": { class_type: "EmptyImage", inputs: { width: 64, height: 64, batch_size: 1, color: 7 } } } };
    const ws = await socketForTest(fake);
    const answer = await postPrompt(fake, { ...again, client_id: ws.clientId, prompt_id: "peer-new" });
    const traced = readTrace<Recorded & { history_after: Json }>("prompt-reuse-client-id.json", "0.8.0");
    expect({ status: answer.status, body: shapeOf(answer.json) }).toEqual({ status: 200, body: shapeOf(traced.body) });
    expect(answer.json.prompt_id).toBe("peer-new");
    await ws.waitFor(isDone("peer-new"));
    const history = (await get(fake, "/history/peer-new")).body as Record<string, { prompt: unknown[] }>;
    expect(shapeOf(history)).toEqual(shapeOf({ "peer-new": traced.history_after[Object.keys(traced.history_after)[0] ?? ""] }));
    expect(history["peer-new"]?.prompt[0]).toBe(answer.json.number);
  });
});
