// The pool's server status (GET /api/servers, shape in src/pool/schemas.ts). Rendered
// defensively: fields the page does not know are ignored, missing ones are shown as "—", and a
// few older or alternative names (name/status/version) are accepted.

import { api } from "./api.js";
import { byId, el } from "./dom.js";

const checkLabels = { host: "Host reachable", port: "Port open", api: "API answers" };
const dash = "—";

function gigabytes(bytes) {
  return typeof bytes === "number" ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : "?";
}

function checkItem(key, check) {
  if (!check || typeof check !== "object") return el("li", {}, `? ${checkLabels[key]}: not checked yet`);
  const ok = check.ok === true;
  const time = typeof check.ms === "number" ? ` (${Math.round(check.ms)} ms)` : "";
  const why = !ok && check.error ? `: ${check.error}` : "";
  return el("li", { class: ok ? "ok" : "bad", "data-check": key }, `${ok ? "✓" : "✗"} ${checkLabels[key]}${time}${why}`);
}

function device(value) {
  if (!value || typeof value !== "object") return typeof value === "string" ? value : dash;
  const vram = value.vramTotal != null ? ` · VRAM ${gigabytes(value.vramFree)} free of ${gigabytes(value.vramTotal)}` : "";
  return `${value.name ?? "?"}${vram}`;
}

function queue(server) {
  const q = server.queue;
  if (!q || typeof q !== "object") return dash;
  const local = server.localPending ? `, ${server.localPending} just sent` : "";
  return `${q.running ?? "?"} running, ${q.pending ?? "?"} pending${local}`;
}

function ago(epochMs) {
  if (typeof epochMs !== "number") return "not yet";
  const seconds = Math.max(0, Math.round((Date.now() - epochMs) / 1000));
  return seconds < 60 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
}

function serverCard(server) {
  const state = String(server.state ?? server.status ?? "unknown");
  const facts = [
    ["Latency", typeof server.latencyMs === "number" ? `${Math.round(server.latencyMs)} ms` : dash],
    ["Queue", queue(server)],
    ["Version", server.comfyuiVersion ?? server.version ?? dash],
    ["Device", device(server.device)],
    ["Checked", ago(server.checkedAt)],
  ];
  if (server.consecutiveFailures > 0) facts.push(["Failures in a row", String(server.consecutiveFailures)]);
  if (Array.isArray(server.tags) && server.tags.length) facts.push(["Tags", server.tags.join(", ")]);
  const checks = server.checks && typeof server.checks === "object" ? server.checks : {};
  const head = () =>
    el(
      "div",
      { class: "server-head" },
      el("span", { class: "server-name" }, server.name ?? server.id ?? "(unnamed)"),
      el("span", { class: `badge ${["up", "down"].includes(state) ? state : "unknown"}` }, state),
    );
  // Without the admin key the gateway tells only each server's name and state.
  if (!server.checks) return el("article", { class: "server", "data-server": server.id ?? server.name, "data-state": state }, head());
  return el(
    "article",
    { class: "server", "data-server": server.id ?? server.name, "data-state": state },
    el(
      "div",
      { class: "server-head" },
      el("span", { class: "server-name" }, server.name ?? server.id ?? "(unnamed)"),
      el("span", { class: `badge ${["up", "down"].includes(state) ? state : "unknown"}` }, state),
      el("span", { class: "server-url" }, server.url ?? ""),
    ),
    el("ul", { class: "checks" }, Object.keys(checkLabels).map((key) => checkItem(key, checks[key]))),
    el("dl", { class: "facts" }, facts.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)])),
  );
}

/** Loads and shows the pool; `refresh` asks the gateway to check every server first. */
export async function loadServers(refresh = false) {
  const button = byId("refresh-servers");
  const summary = byId("servers-summary");
  button.disabled = true;
  if (refresh) summary.textContent = "Checking every server…";
  try {
    const body = await api.servers(refresh);
    const servers = Array.isArray(body.servers) ? body.servers : [];
    const total = body.summary?.total ?? body.total ?? servers.length;
    const available = body.summary?.available ?? body.available ?? "?";
    summary.className = available === 0 ? "hint error" : "hint";
    summary.textContent = total === 0 ? "No servers configured." : `${available} of ${total} ${total === 1 ? "server" : "servers"} available · updated ${new Date().toLocaleTimeString()}`;
    byId("server-list").replaceChildren(...servers.map(serverCard));
  } catch (error) {
    summary.className = "hint error";
    summary.textContent = `Could not load the servers: ${error.describe ? error.describe() : error.message}`;
  } finally {
    button.disabled = false;
  }
}
