// Follows one task until it ends, the way the product owner asked: a WebSocket for progress and
// the result, plus a 1 s poll of /api/queue for the queue position (the socket only says where the
// task stands when that changes). If the socket closes before a final message, GET /api/tasks/:id
// every 2 s takes over. Every source reports through the same `update` and the first final state
// wins, so a late or duplicate message cannot undo a result.

import { api } from "./api.js";

const queuePollMs = 1_000;
const taskPollMs = 2_000;
// A few failed polls in a row mean the gateway is gone; the socket (or the task poll) still reports.
const maxQueueFailures = 5;
const finalStatuses = new Set(["succeeded", "failed", "cancelled"]);

/** Percent of the whole task when known, else of the current node, else null (indeterminate). */
export function percentOf(progress) {
  if (!progress) return null;
  if (typeof progress.percent === "number") return progress.percent;
  if (typeof progress.value === "number" && typeof progress.max === "number" && progress.max > 0) return (progress.value / progress.max) * 100;
  return null;
}

function socketUrl(frontend, taskId) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/api/ws?${new URLSearchParams({ frontend, taskId })}`;
}

/**
 * Starts watching; `onState` receives `{ status, ahead?, percent?, node?, outputUrls?, error?, note? }`
 * merged over the previous state. Returns `{ stop, finish }`.
 */
export function watchTask({ frontend, taskId, onState }) {
  let state = { status: "queued" };
  let finished = false;
  let socket = null;
  let queueTimer = null;
  let taskTimer = null;
  let queueFailures = 0;

  function update(patch) {
    if (finished) return;
    state = { ...state, ...patch };
    if (finalStatuses.has(state.status)) {
      finished = true;
      stop();
    }
    onState(state);
  }

  function stop() {
    clearTimeout(queueTimer);
    clearTimeout(taskTimer);
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, "done");
  }

  // The task's own record: used after the socket is gone, and to confirm a final status the queue poll saw.
  function fromTask(task) {
    if (task.status === "running") update({ status: "running", percent: percentOf(task.progress), node: task.progress?.node ?? state.node });
    else if (finalStatuses.has(task.status)) update({ status: task.status, outputUrls: task.outputUrls ?? [], error: task.error ?? null });
    else update({ status: task.status });
  }

  async function pollTask() {
    if (finished) return;
    try {
      fromTask((await api.task(frontend, taskId)).task);
    } catch (error) {
      if (error.status === 404) return update({ status: "failed", error: error.describe() });
      update({ note: `Could not read the task: ${error.describe()}; retrying.` });
    }
    if (!finished) taskTimer = setTimeout(pollTask, taskPollMs);
  }

  async function pollQueue() {
    if (finished) return;
    try {
      const position = await api.queue(frontend, taskId);
      queueFailures = 0;
      if (finalStatuses.has(position.status)) return void pollTask(); // the outputs are on the task
      if (position.running || position.status === "running") {
        if (state.status === "queued") update({ status: "running", ahead: 0 });
        return; // from here the socket (or the task poll) reports progress
      }
      // An answer sent before the socket said "running" must not move the task back to the queue.
      if (state.status === "running") return;
      update({ status: position.status, ahead: position.ahead });
    } catch (error) {
      if (++queueFailures >= maxQueueFailures || error.status === 404) return;
    }
    if (!finished) queueTimer = setTimeout(pollQueue, queuePollMs);
  }

  function onMessage(event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return; // binary preview frames or noise: nothing to show
    }
    if (message.taskId && message.taskId !== taskId) return;
    switch (message.type) {
      case "subscribed":
        if (message.status && !finalStatuses.has(message.status)) update({ status: message.status });
        break;
      case "queued":
        update({ status: "queued", ahead: message.ahead });
        break;
      case "running":
        update({ status: "running", ahead: 0 });
        break;
      case "executing":
        update({ status: "running", node: message.node });
        break;
      case "progress":
        update({ status: "running", percent: percentOf(message), node: message.node ?? state.node });
        break;
      case "succeeded":
        update({ status: "succeeded", outputUrls: message.outputUrls ?? [] });
        break;
      case "failed":
        update({ status: "failed", error: message.node ? `${message.message} (node ${message.node})` : message.message });
        break;
      case "cancelled":
        update({ status: "cancelled" });
        break;
      case "error":
        update({ note: `Live updates: ${message.message} (${message.code})` });
        break;
    }
  }

  async function openSocket() {
    try {
      const protocols = await api.socketProtocols(frontend);
      if (finished) return;
      socket = new WebSocket(socketUrl(frontend, taskId), protocols);
    } catch {
      return void pollTask();
    }
    socket.addEventListener("message", onMessage);
    // `error` is always followed by `close`, so the fallback starts in one place.
    socket.addEventListener("close", (event) => {
      if (finished) return;
      // 4401: the token expired; the next session() is a fresh token, so reconnect with it.
      if (event.code === 4401) return void openSocket();
      update({ note: "Live updates stopped; checking the task every 2 s instead." });
      pollTask();
    });
  }

  void openSocket();
  pollQueue();
  return { stop: () => ((finished = true), stop()), finish: (task) => fromTask(task) };
}
