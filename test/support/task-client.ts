import { expect } from "vitest";
import { encodePng, solidRaster } from "../fake-comfy/png.ts";
import { apiFetch } from "./credentials.ts";

/** A small real PNG. */
export function pngBytes(width = 8, height = 8, color = 0x336699): Uint8Array {
  return encodePng(solidRaster(width, height, color));
}

export interface SubmitFields {
  frontend: string;
  /** Left out: the user of a user token. */
  userId?: string;
  workflow: string;
  params?: string;
  image?: { bytes: Uint8Array; type: string; name: string } | null;
  /** A frontend key's ordering of its own waiting tasks. */
  priority?: number;
}

/** POST /api/tasks over real HTTP as a frontend app would send it. */
export async function submitTask(baseUrl: string, fields: SubmitFields, headers: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  form.set("frontend", fields.frontend);
  if (fields.userId !== undefined) form.set("userId", fields.userId);
  form.set("workflow", fields.workflow);
  if (fields.params !== undefined) form.set("params", fields.params);
  if (fields.priority !== undefined) form.set("priority", String(fields.priority));
  if (fields.image) form.set("image", new File([new Uint8Array(fields.image.bytes)], fields.image.name, { type: fields.image.type }));
  return apiFetch(`${baseUrl}/api/tasks`, { method: "POST", body: form, headers });
}

/** Submits a task that must be accepted (202): its id. */
export async function submitAccepted(baseUrl: string, fields: SubmitFields): Promise<string> {
  const answer = await submitTask(baseUrl, fields);
  expect(answer.status).toBe(202);
  return (await answer.json()).task.id;
}

export async function createUser(baseUrl: string, frontend: string, externalId: string): Promise<string> {
  const answer = await apiFetch(`${baseUrl}/api/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ frontend, externalId }),
  });
  const body = (await answer.json()) as { user: { id: string } };
  return body.user.id;
}

/** Polls GET /api/queue like a client would, until `done` says stop; returns every answer. */
export async function pollQueue(
  baseUrl: string,
  frontend: string,
  taskId: string,
  done: (answer: QueueAnswer) => boolean,
  intervalMs = 10,
  limit = 2_000,
): Promise<QueueAnswer[]> {
  const answers: QueueAnswer[] = [];
  for (let i = 0; i < limit; i++) {
    const answer = (await (await apiFetch(`${baseUrl}/api/queue?frontend=${frontend}&taskId=${taskId}`)).json()) as QueueAnswer;
    answers.push(answer);
    if (done(answer)) return answers;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`queue poll did not finish: ${JSON.stringify(answers.at(-1))}`);
}

export interface QueueAnswer {
  taskId: string;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  running: boolean;
  ahead: number;
}

export const isFinalStatus = (answer: { status: string }) => ["succeeded", "failed", "cancelled"].includes(answer.status);

/**
 * Waits until the gateway has handed a task to a ComfyUI server (late scheduling: a task waits in
 * the gateway first), as GET /api/tasks/:id shows it; returns the server's public name.
 */
export async function untilDispatched(baseUrl: string, frontend: string, taskId: string): Promise<string> {
  const read = async () => ((await (await apiFetch(`${baseUrl}/api/tasks/${taskId}?frontend=${frontend}`)).json()) as { task: { server: string | null; status: string } }).task;
  let task = await read();
  await expect
    .poll(async () => {
      task = await read();
      return task.server !== null || task.status !== "queued";
    }, { timeout: 15_000, interval: 10 })
    .toBe(true);
  return task.server ?? "";
}
