import { benchAuth } from "./gateway.ts";

/** The few gateway calls the scenarios make themselves (the load itself comes from drivers). */

export async function createUser(base: string, externalId: string): Promise<string> {
  const res = await fetch(`${base}/api/users`, {
    method: "POST",
    headers: { "content-type": "application/json", ...benchAuth },
    body: JSON.stringify({ frontend: "style", externalId }),
  });
  const body = (await res.json()) as { user?: { id: string } };
  if (!res.ok || !body.user) throw new Error(`POST /api/users answered ${res.status}: ${JSON.stringify(body)}`);
  return body.user.id;
}

/** Submits one style task; returns its id. */
export async function submitTask(base: string, userId: string, workflow: string, png: Uint8Array, params?: Record<string, unknown>): Promise<string> {
  const form = new FormData();
  form.set("frontend", "style");
  form.set("userId", userId);
  form.set("workflow", workflow);
  if (params) form.set("params", JSON.stringify(params));
  form.set("image", new Blob([new Uint8Array(png)], { type: "image/png" }), "bench.png");
  const res = await fetch(`${base}/api/tasks`, { method: "POST", body: form, headers: benchAuth });
  const body = (await res.json()) as { task?: { id: string } };
  if (res.status !== 202 || !body.task) throw new Error(`POST /api/tasks answered ${res.status}: ${JSON.stringify(body)}`);
  return body.task.id;
}
