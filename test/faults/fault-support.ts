import { apiFetch } from "../support/credentials.ts";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { createUser, pngBytes, submitTask } from "../support/task-client.ts";

export const image = () => ({ bytes: pngBytes(), type: "image/png", name: "in.png" });
const finalStatuses = ["succeeded", "failed", "cancelled"];

export interface TaskAnswer {
  id: string;
  status: string;
  outputUrls: string[];
  error: string | null;
}

/** GET /api/tasks/:id: reads the row only, so watching it never nudges the gateway into reconciling. */
export async function readTask(baseUrl: string, frontend: string, id: string): Promise<TaskAnswer | null> {
  const res = await apiFetch(`${baseUrl}/api/tasks/${id}?frontend=${frontend}`).catch(() => null);
  if (!res || res.status !== 200) return null;
  return ((await res.json()) as { task: TaskAnswer }).task;
}

/** Waits until every task has a final status, reading rows only, and returns them. */
export async function settled(baseUrl: string, frontend: string, ids: string[], timeout = 30_000): Promise<TaskAnswer[]> {
  let tasks: Array<TaskAnswer | null> = [];
  await expect
    .poll(
      async () => {
        tasks = await Promise.all(ids.map((id) => readTask(baseUrl, frontend, id)));
        return tasks.every((task) => task !== null && finalStatuses.includes(task.status));
      },
      { timeout, interval: 100 },
    )
    .toBe(true);
  return tasks as TaskAnswer[];
}

/** Creates a user and submits `count` invert tasks; returns their ids. */
export async function submitMany(baseUrl: string, count: number, externalId = "fault-user"): Promise<{ userId: string; ids: string[] }> {
  const userId = await createUser(baseUrl, "style", externalId);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await submitTask(baseUrl, { frontend: "style", userId, workflow: "invert", image: image() });
    expect(res.status).toBe(202);
    ids.push(((await res.json()) as { task: { id: string } }).task.id);
  }
  return { userId, ids };
}

/** Every output file local storage holds for a frontend (results, not uploads). */
export function storedOutputs(dataDir: string, frontend = "style"): string[] {
  const dir = path.join(dataDir, "files", frontend, "outputs");
  const walk = (folder: string): string[] =>
    readdirSync(folder).flatMap((name) => {
      const full = path.join(folder, name);
      return statSync(full).isDirectory() ? walk(full) : [full];
    });
  try {
    return walk(dir).filter((file) => !file.endsWith(".tmp"));
  } catch {
    return [];
  }
}

/**
 * The end state every fault test asserts: nothing stuck (every task final), nothing duplicated
 * (each succeeded task names its one output, each output URL appears once and is served).
 */
export async function expectCleanEnd(baseUrl: string, tasks: TaskAnswer[], dataDir: string): Promise<void> {
  expect(tasks.filter((task) => !finalStatuses.includes(task.status))).toEqual([]);
  const urls = tasks.flatMap((task) => task.outputUrls);
  expect(new Set(urls).size).toBe(urls.length);
  for (const task of tasks) expect(task.outputUrls).toHaveLength(task.status === "succeeded" ? 1 : 0);
  expect(storedOutputs(dataDir)).toHaveLength(urls.length);
  for (const url of urls) expect((await fetch(url)).status).toBe(200);
}

/** A user's tasks as the API lists them (newest first, first page). */
export async function userTasks(baseUrl: string, userId: string, frontend = "style"): Promise<Array<{ id: string; status: string }>> {
  const res = await apiFetch(`${baseUrl}/api/tasks?frontend=${frontend}&userId=${userId}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: Array<{ id: string; status: string }> }).items;
}

/** Waits until a freshly started gateway has seen a ComfyUI server up (its first check ran). */
export async function serverUp(baseUrl: string): Promise<void> {
  await expect
    .poll(async () => ((await (await apiFetch(`${baseUrl}/api/servers`)).json()) as { summary: { available: number } }).summary.available, { timeout: 30_000, interval: 100 })
    .toBeGreaterThan(0);
}
