import type { FakeStore, QueuedPrompt } from "./store.ts";

/** An HTTP answer of the jobs routes. */
export interface JobsAnswer {
  status: number;
  body: unknown;
}

type Json = Record<string, unknown>;
const statuses = ["pending", "in_progress", "completed", "failed"] as const;

/**
 * `GET /api/jobs` and `GET /api/jobs/{id}` (current releases): one view over the queue and the
 * history, with the fields and the order ComfyUI 0.8.0 was recorded answering.
 */
export function jobsList(store: FakeStore, query: URLSearchParams): JobsAnswer {
  const wanted = (query.get("status") ?? statuses.join(",")).split(",").map((s) => s.trim());
  const bad = wanted.filter((s) => !(statuses as readonly string[]).includes(s));
  if (bad.length > 0) return { status: 400, body: { error: `Invalid status value(s): ${bad.join(", ")}. Valid values: ${statuses.join(", ")}` } };
  const order = query.get("sort_order") === "asc" ? 1 : -1;
  const all = allJobs(store)
    .filter((j) => wanted.includes(String(j.summary.status)))
    .sort((a, b) => order * (a.createTime - b.createTime || a.number - b.number));
  const offset = Number(query.get("offset") ?? 0);
  const limit = query.has("limit") ? Number(query.get("limit")) : null;
  const page = all.slice(offset, limit === null ? undefined : offset + limit);
  return {
    status: 200,
    body: { jobs: page.map((j) => j.summary), pagination: { offset, limit, total: all.length, has_more: offset + page.length < all.length } },
  };
}

/** One job with its outputs, status messages and workflow; 404 as recorded for an unknown id. */
export function jobDetail(store: FakeStore, id: string): JobsAnswer {
  const job = allJobs(store).find((j) => j.summary.id === id);
  if (job === undefined) return { status: 404, body: { error: "Job not found" } };
  return { status: 200, body: { ...job.summary, ...job.detail } };
}

interface JobView {
  number: number;
  createTime: number;
  summary: Json;
  detail: Json;
}

function allJobs(store: FakeStore): JobView[] {
  const queued = [...(store.running === null ? [] : [store.running]), ...store.pending];
  const fromQueue = queued.map((item) => queuedJob(item, item === store.running ? "in_progress" : "pending"));
  const finished = [...store.history.values()].map(finishedJob);
  return [...fromQueue, ...finished.filter((job) => !fromQueue.some((q) => q.summary.id === job.summary.id))];
}

function queuedJob(item: QueuedPrompt, status: string): JobView {
  const createTime = Number(item.extraData.create_time ?? 0);
  return {
    number: item.number,
    createTime,
    summary: { id: item.promptId, status, priority: item.number, create_time: createTime, outputs_count: 0 },
    detail: {},
  };
}

function finishedJob(entry: Json): JobView {
  const [number, id, prompt, extraData] = entry.prompt as [number, string, Json, Json];
  const status = entry.status as { status_str: string; messages: Array<[string, Json]> };
  const messages = status.messages;
  const last = messages.at(-1);
  const startTime = messages.find(([type]) => type === "execution_start")?.[1].timestamp;
  const images = Object.entries(entry.outputs as Record<string, { images?: Json[] }>).flatMap(([nodeId, out]) =>
    (out.images ?? []).map((image) => ({ ...image, nodeId, mediaType: "images" })),
  );
  const createTime = Number(extraData.create_time ?? 0);
  const failure = last?.[0] === "execution_error" ? { execution_error: last[1] } : {};
  return {
    number,
    createTime,
    summary: {
      id,
      status: status.status_str === "success" ? "completed" : "failed",
      priority: number,
      create_time: createTime,
      execution_start_time: startTime,
      execution_end_time: last?.[1].timestamp,
      outputs_count: images.length,
      ...(images[0] === undefined ? {} : { preview_output: images[0] }),
    },
    detail: { ...failure, outputs: entry.outputs, execution_status: entry.status, workflow: { prompt, extra_data: extraData } },
  };
}
