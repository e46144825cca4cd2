import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { currentFeatures, currentRejection } from "./current-release.ts";
import type { Executor } from "./executor.ts";
import { jobDetail, jobsList } from "./jobs-api.ts";
import { answer, empty, json, parseJson, parseMultipart, readBody, text } from "./http-util.ts";
import { objectInfo, type FakeFiles } from "./node-catalog.ts";
import { toTuple, type FakeStore } from "./store.ts";
import { validatePrompt } from "./validate.ts";
import type { WsHub } from "./ws-hub.ts";

/** What the routes work on. */
export interface RouteDeps {
  store: FakeStore;
  executor: Executor;
  hub: WsHub;
}

/** Strips the optional `/api` prefix: every route exists under both paths. */
export function routePath(url: URL): string {
  return url.pathname.startsWith("/api/") ? url.pathname.slice(4) : url.pathname;
}

/** Answers one HTTP request like ComfyUI's aiohttp server would. */
export async function handle(deps: RouteDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { store } = deps;
  const url = new URL(req.url ?? "/", "http://fake");
  const path = routePath(url);
  const method = req.method ?? "GET";
  const body = await readBody(req);
  store.counters.requests += 1;
  if (store.options.hang) return; // never answered: the socket stays open until the client gives up
  await store.holdWhileListed(path, method);
  const delay = store.options.routeDelayMs[path] ?? 0;
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  // Counted before any injected failure: tests count the attempts.
  if (path === "/object_info" && method === "GET") store.counters.objectInfoReads += 1;
  if (store.options.garbage) {
    // A misconfigured proxy in front of ComfyUI: 200 and an HTML page, on every route.
    if (path === "/view") store.counters.views += 1;
    return text(res, 200, "<!doctype html><title>Welcome</title><p>It works!</p>");
  }
  if (store.options.fail500 || store.options.failRoutes.includes(path)) {
    return text(res, 500, "500 Internal Server Error\n\nServer got itself in trouble");
  }
  const canned = store.options.routeAnswers[path];
  if (canned !== undefined) return answer(res, canned);
  const c = store.counters;

  if (path === "/prompt" && method === "POST") {
    c.promptPosts += 1;
    return postPrompt(deps, parseJson(body), res);
  }
  if (path === "/prompt" && method === "GET") return json(res, 200, { exec_info: { queue_remaining: store.queueRemaining() } });
  if (path === "/queue" && method === "GET") {
    c.queueReads += 1;
    const running = store.running === null ? [] : [toTuple(store.running)];
    return json(res, 200, { queue_running: running, queue_pending: store.pending.map(toTuple) });
  }
  if (path === "/queue" && method === "POST") {
    c.queuePosts += 1;
    return postQueue(deps, parseJson(body), res);
  }
  if (path === "/interrupt" && method === "POST") {
    c.interrupts += 1;
    const payload = parseJson(body);
    // 0.3.x ignores any body; current releases scope the interrupt to the given prompt.
    const scoped = store.options.version === "current" && isRecord(payload) && typeof payload.prompt_id === "string";
    deps.executor.interrupt(scoped ? (payload.prompt_id as string) : undefined);
    return empty(res);
  }
  if (path.startsWith("/history/") && method === "GET") {
    c.historyReads += 1;
    const id = decodeURIComponent(path.slice("/history/".length));
    const entry = store.history.get(id);
    return json(res, 200, entry === undefined ? {} : { [id]: entry });
  }
  if (path === "/history" && method === "GET") return json(res, 200, Object.fromEntries(store.history));
  if (path === "/history" && method === "POST") {
    const payload = parseJson(body);
    if (isRecord(payload) && payload.clear === true) store.history.clear();
    if (isRecord(payload) && Array.isArray(payload.delete)) for (const id of payload.delete) store.history.delete(String(id));
    return empty(res);
  }
  if (path === "/view" && method === "GET") {
    c.views += 1;
    return view(store, url, res);
  }
  if (path === "/upload/image" && method === "POST") {
    c.uploads += 1;
    return upload(store, await parseMultipart(req, body), res);
  }
  if (path === "/system_stats" && method === "GET") {
    c.systemStatsReads += 1;
    return json(res, 200, systemStats(store));
  }
  if (path === "/object_info" && method === "GET") {
    return json(res, 200, objectInfo(fakeFiles(store), store.options.nodeClasses));
  }
  if (path.startsWith("/object_info/") && method === "GET") {
    const name = decodeURIComponent(path.slice("/object_info/".length));
    const all = objectInfo(fakeFiles(store), store.options.nodeClasses);
    return json(res, 200, name in all ? { [name]: all[name] } : {});
  }
  const current = store.options.version === "current";
  if (path === "/features" && method === "GET" && current) return json(res, 200, currentFeatures());
  // Only under /api, as in ComfyUI (the jobs routes have no plain alias).
  if (url.pathname === "/api/jobs" && method === "GET" && current) {
    const answer = jobsList(store, url.searchParams);
    return json(res, answer.status, answer.body);
  }
  if (url.pathname.startsWith("/api/jobs/") && method === "GET" && current) {
    c.jobReads += 1;
    const answer = jobDetail(store, decodeURIComponent(url.pathname.slice("/api/jobs/".length)));
    return json(res, answer.status, answer.body);
  }
  return text(res, 404, "404: Not Found");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function postPrompt({ store, executor, hub }: RouteDeps, payload: unknown, res: ServerResponse): void {
  const offered = store.options.nodeClasses === null ? null : new Set(store.options.nodeClasses);
  const result = validatePrompt(payload, fakeFiles(store), offered);
  const current = store.options.version === "current";
  if (!result.ok) return json(res, 400, current ? currentRejection(result.body) : result.body);
  const body = isRecord(payload) ? payload : {};
  const extraData = isRecord(body.extra_data) ? { ...body.extra_data } : {};
  if (typeof body.client_id === "string") extraData.client_id = body.client_id;
  if (current) extraData.create_time = Date.now();
  const wanted = typeof body.prompt_id === "string" && current ? body.prompt_id : null;
  const promptId = wanted ?? randomUUID();
  const number = store.nextNumber++;
  store.enqueue({ number, promptId, prompt: result.prompt, extraData, outputs: result.outputs });
  hub.broadcast({ type: "status", data: { status: { exec_info: { queue_remaining: store.queueRemaining() } } } });
  const answer = () => json(res, 200, { prompt_id: promptId, number, node_errors: result.nodeErrors });
  if (store.options.promptAnswerDelayMs > 0) setTimeout(answer, store.options.promptAnswerDelayMs);
  else answer();
  executor.kick();
}

function postQueue({ store }: RouteDeps, payload: unknown, res: ServerResponse): void {
  if (isRecord(payload) && payload.clear === true) store.pending.length = 0;
  if (isRecord(payload) && Array.isArray(payload.delete)) store.deletePending(new Set(payload.delete.map(String)));
  empty(res);
}

function view(store: FakeStore, url: URL, res: ServerResponse): void {
  const filename = url.searchParams.get("filename") ?? "";
  const type = url.searchParams.get("type") ?? "output";
  const subfolder = url.searchParams.get("subfolder") ?? "";
  if (filename.includes("..") || filename.includes("/") || subfolder.includes("..")) return text(res, 403, "403: Forbidden");
  const files = type === "input" ? store.inputs : type === "output" ? store.outputs : null;
  const bytes = subfolder === "" ? files?.get(filename) : undefined;
  if (bytes === undefined) return text(res, 404, "404: Not Found");
  res.writeHead(200, {
    "content-type": filename.endsWith(".png") ? "image/png" : "application/octet-stream",
    "content-disposition": `filename="${filename}"`,
    "content-length": bytes.byteLength,
  });
  res.end(bytes);
}

async function upload(store: FakeStore, form: FormData | null, res: ServerResponse): Promise<void> {
  const file = form?.get("image");
  if (form === null || !(file instanceof Blob)) return text(res, 400, "400: Bad Request");
  const original = "name" in file && typeof file.name === "string" && file.name !== "" ? file.name : "image.png";
  const bytes = new Uint8Array(await file.arrayBuffer());
  const overwrite = form.get("overwrite") === "true" || form.get("overwrite") === "1";
  let name = original;
  if (!overwrite) {
    // Same bytes under the same name are reused; different bytes get "name (1).ext", "name (2).ext"...
    const dot = original.lastIndexOf(".");
    const [stem, ext] = dot > 0 ? [original.slice(0, dot), original.slice(dot)] : [original, ""];
    for (let i = 1; store.inputs.has(name) && !Buffer.from(store.inputs.get(name) ?? []).equals(bytes); i++) name = `${stem} (${i})${ext}`;
  }
  // Without keepUploads the name stays (LoadImage validates it) but the bytes go: a run reads nothing.
  store.inputs.set(name, store.options.keepUploads ? bytes : new Uint8Array(0));
  json(res, 200, { name, subfolder: "", type: "input" });
}

function systemStats(store: FakeStore): Record<string, unknown> {
  const version = store.options.version === "current" ? "0.8.0" : "0.3.14";
  return {
    system: {
      os: "posix",
      ram_total: 33_554_432_000,
      ram_free: 20_000_000_000,
      ...(store.options.omitVersion ? {} : { comfyui_version: version }),
      python_version: "3.12.3 (main)",
      pytorch_version: "2.5.1+cu124",
      embedded_python: false,
      argv: ["main.py", "--listen", "127.0.0.1"],
    },
    devices: [
      {
        name: "cuda:0 Fake GPU 24GB : cudaMallocAsync",
        type: "cuda",
        index: 0,
        vram_total: 25_769_803_776,
        vram_free: 24_000_000_000,
        torch_vram_total: 0,
        torch_vram_free: 0,
      },
    ],
  };
}

function fakeFiles(store: FakeStore): FakeFiles {
  return { inputs: [...store.inputs.keys()], checkpoints: store.options.checkpoints };
}
