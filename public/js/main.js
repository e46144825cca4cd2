// Wires the page: workflow picker and form, submit, the live task, the servers panel.

import { api, newUuid, setUser } from "./api.js";
import { byId, el, showText } from "./dom.js";
import { renderTask, resetTask, showTaskError } from "./task-view.js";
import { readParams, renderParams } from "./param-form.js";
import { loadServers } from "./servers-panel.js";
import { watchTask } from "./task-watcher.js";

// Background refresh of the servers panel; `?refresh=1` is left to the button, it probes every server.
const serversEveryMs = 15_000;

const form = byId("task-form");
const frontendSelect = byId("frontend");
const workflowSelect = byId("workflow");
const params = byId("params");
const imageInput = byId("image");
const submitButton = byId("submit");

let workflows = [];
let workflowsLoad = 0;
let watcher = null;
let current = null; // { frontend, taskId } of the task on screen

const describe = (error) => (error.describe ? error.describe() : error.message);
const selectedWorkflow = () => workflows.find((workflow) => workflow.name === workflowSelect.value) ?? null;

function showWorkflow() {
  const workflow = selectedWorkflow();
  const info = byId("workflow-info");
  info.replaceChildren();
  if (workflow) {
    info.append(el("p", { class: "hint" }, workflow.description));
    if (workflow.requiresModels?.length) {
      info.append(el("p", { class: "hint note" }, `Needs ${workflow.requiresModels.length === 1 ? "model" : "models"} ${workflow.requiresModels.join(", ")} on the server.`));
    }
  }
  renderParams(params, workflow);

  const image = workflow?.image ?? null;
  byId("image-field").hidden = !image;
  imageInput.disabled = !image;
  imageInput.required = Boolean(image?.required);
  byId("image-field").querySelector(".label").classList.toggle("required", Boolean(image?.required));
  byId("image-hint").textContent = image ? `${image.description ?? ""}${image.required ? "" : " (optional)"}` : "";
  submitButton.disabled = !workflow;
}

async function loadWorkflows() {
  const frontend = frontendSelect.value;
  const load = ++workflowsLoad; // a quick frontend switch must not let the older answer win
  workflowSelect.disabled = true;
  workflowSelect.replaceChildren(el("option", { value: "" }, "Loading…"));
  workflows = [];
  showWorkflow();
  try {
    const body = await api.workflows(frontend);
    if (load !== workflowsLoad) return;
    workflows = Array.isArray(body.workflows) ? body.workflows : [];
    const options = workflows.map((workflow) => el("option", { value: workflow.name }, workflow.name));
    workflowSelect.replaceChildren(...(options.length ? options : [el("option", { value: "" }, "No workflows for this frontend")]));
    workflowSelect.disabled = options.length === 0;
  } catch (error) {
    if (load !== workflowsLoad) return;
    workflowSelect.replaceChildren(el("option", { value: "" }, "Could not load workflows"));
    byId("workflow-info").replaceChildren(el("p", { class: "hint error" }, describe(error)));
    return;
  }
  showWorkflow();
}

function showImagePreview() {
  const preview = byId("image-preview");
  if (preview.src) URL.revokeObjectURL(preview.src);
  const file = imageInput.files?.[0];
  preview.hidden = !file;
  if (file) preview.src = URL.createObjectURL(file);
  else preview.removeAttribute("src");
}

async function submit(event) {
  event.preventDefault();
  showText(byId("form-error"), "");
  if (!form.reportValidity()) return;
  const workflow = selectedWorkflow();
  if (!workflow) return;
  const frontend = frontendSelect.value;
  watcher?.stop();
  current = null;
  submitButton.disabled = true;
  resetTask();
  try {
    setUser(byId("user").value.trim());
    // No userId: a user token submits as its own user.
    const body = new FormData();
    body.set("frontend", frontend);
    body.set("workflow", workflow.name);
    const values = readParams(params, workflow);
    if (Object.keys(values).length) body.set("params", JSON.stringify(values));
    const file = imageInput.files?.[0];
    if (workflow.image && file) body.set("image", file, file.name);
    const { task } = await api.submitTask(frontend, body, newUuid());
    current = { frontend, taskId: task.id };
    renderTask({ status: task.status }, task.id);
    watcher = watchTask({ frontend, taskId: task.id, onState: (state) => renderTask(state, task.id) });
  } catch (error) {
    showTaskError(describe(error));
  } finally {
    submitButton.disabled = false;
  }
}

async function cancel() {
  if (!current) return;
  const button = byId("cancel");
  button.disabled = true;
  try {
    const { task } = await api.cancelTask(current.frontend, current.taskId);
    watcher?.finish(task);
  } catch (error) {
    showText(byId("error"), `Cancel failed: ${describe(error)}`);
  } finally {
    button.disabled = false;
  }
}

frontendSelect.addEventListener("change", loadWorkflows);
workflowSelect.addEventListener("change", showWorkflow);
imageInput.addEventListener("change", showImagePreview);
form.addEventListener("submit", submit);
byId("cancel").addEventListener("click", cancel);
byId("refresh-servers").addEventListener("click", () => loadServers(true));
setInterval(() => {
  if (document.visibilityState === "visible") loadServers(false);
}, serversEveryMs);

loadWorkflows();
loadServers(false);
