// Renders a watched task's state into the "Your task" card.

import { byId, el, safeUrl, showText } from "./dom.js";

const statusText = {
  submitting: "Submitting…",
  queued: "Queued: waiting for a ComfyUI server.",
  running: "Running.",
  succeeded: "Done.",
  failed: "Failed.",
  cancelled: "Cancelled.",
};

/** "Yours is next", "1 job ahead of yours", "3 jobs ahead of yours". */
export function aheadText(ahead) {
  if (typeof ahead !== "number") return "";
  if (ahead === 0) return "Yours is next.";
  return `${ahead} ${ahead === 1 ? "job" : "jobs"} ahead of yours`;
}

function renderProgress(state) {
  const box = byId("progress-box");
  const bar = byId("progress");
  box.hidden = state.status !== "running";
  if (box.hidden) return;
  if (typeof state.percent === "number") {
    const percent = Math.max(0, Math.min(100, state.percent));
    bar.value = percent;
    bar.textContent = `${Math.round(percent)}%`;
    bar.dataset.percent = String(Math.round(percent));
  } else {
    // No value attribute makes the bar indeterminate: running, amount unknown yet.
    bar.removeAttribute("value");
    bar.textContent = "";
    delete bar.dataset.percent;
  }
  const parts = [typeof state.percent === "number" ? `${Math.round(state.percent)}%` : "Starting…", state.node ? `node ${state.node}` : ""];
  byId("progress-text").textContent = parts.filter(Boolean).join(" · ");
}

function renderResults(urls) {
  const images = (urls ?? []).map((url, index) => {
    const src = safeUrl(url);
    if (!src) return null;
    const image = el("img", { class: "result", src, alt: `Result ${index + 1}`, loading: "lazy" });
    return el("a", { href: src, target: "_blank", rel: "noopener" }, image);
  });
  byId("result").replaceChildren(...images.filter(Boolean));
}

function errorText(state) {
  if (state.status === "failed") return state.error || "The task failed without a message.";
  if (state.status === "succeeded" && !state.outputUrls?.length) return "The task finished but produced no image.";
  return state.error ?? "";
}

/** Shows `state` (see task-watcher.js); `taskId` once known. */
export function renderTask(state, taskId) {
  const text = statusText[state.status] ?? `Status: ${state.status}`;
  // Notes are about live updates; once the task ended they no longer matter.
  const final = state.status === "succeeded" || state.status === "failed" || state.status === "cancelled";
  showText(byId("status"), state.note && !final ? `${text} ${state.note}` : text);
  showText(byId("task-id"), taskId ? `Task ${taskId}` : "");
  showText(byId("ahead"), state.status === "queued" ? aheadText(state.ahead) : "");
  renderProgress(state);
  if (state.status === "succeeded") renderResults(state.outputUrls);
  else byId("result").replaceChildren();
  showText(byId("error"), errorText(state));
  byId("cancel").hidden = !(taskId && (state.status === "queued" || state.status === "running"));
}

/** Clears the card for a new submit. */
export function resetTask() {
  renderTask({ status: "submitting" }, null);
}

/** An error before there is a task to watch (user upsert or submit refused). */
export function showTaskError(message) {
  showText(byId("status"), "Not submitted.");
  showText(byId("error"), message);
}
