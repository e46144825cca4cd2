import { z } from "zod";

/** One configured ComfyUI server. `name` doubles as its id in the pool and in the API. */
export const serverEntrySchema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
    name: z.string().regex(/^[A-Za-z0-9_.:-]+$/, "letters, digits, _ . : - only").optional(),
    weight: z.number().positive().default(1),
    tags: z.array(z.string().min(1)).default([]),
  })
  .transform(({ url, ...rest }) => ({ ...rest, ...splitCredentials(url) }));

/**
 * Takes `user:pass@` out of a server URL: the URL then appears in statuses and logs without them,
 * and they travel as an `Authorization: Basic` header (fetch refuses URLs with credentials).
 */
function splitCredentials(text: string): { url: string; basicAuth?: string } {
  const url = new URL(text);
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  const clean = url.toString().replace(/\/+$/, "");
  if (user === "" && pass === "") return { url: clean };
  return { url: clean, basicAuth: Buffer.from(`${user}:${pass}`).toString("base64") };
}
export type ServerEntryInput = z.input<typeof serverEntrySchema>;
export type ServerEntry = z.output<typeof serverEntrySchema>;

/** A list of servers with unique ids. */
export const serverListSchema = z.array(serverEntrySchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  for (const entry of list) {
    const id = serverId(entry);
    if (seen.has(id)) ctx.addIssue({ code: "custom", message: `duplicate server "${id}"` });
    seen.add(id);
  }
});

/** The server's id: its name, or `host:port` of its URL. */
export function serverId(entry: { url: string; name?: string | undefined }): string {
  if (entry.name !== undefined) return entry.name;
  return new URL(entry.url).host;
}

/**
 * Parses `COMFY_SERVERS`. Syntax: comma-separated entries, each
 * `[name=]url[;weight=<number>][;tags=<tag>|<tag>...]`, whitespace around parts ignored, e.g.
 * `gpu1=http://10.0.0.5:8188;weight=2;tags=sdxl|fast, http://10.0.0.6:8188`.
 * Throws a ZodError naming the bad entry; an empty string gives an empty list.
 */
export function parseComfyServers(value: string): ServerEntry[] {
  const entries = value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map(toRawEntry);
  return serverListSchema.parse(entries);
}

function toRawEntry(text: string): Record<string, unknown> {
  const [head = "", ...options] = text.split(";").map((p) => p.trim());
  // `name=url`: the name part cannot contain "://", which tells it from a URL with a query.
  const eq = head.indexOf("=");
  const named = eq > 0 && !head.slice(0, eq).includes("://");
  const raw: Record<string, unknown> = named ? { name: head.slice(0, eq).trim(), url: head.slice(eq + 1).trim() } : { url: head };
  for (const option of options) {
    const [key = "", val = ""] = option.split("=").map((p) => p.trim());
    if (key === "weight") raw.weight = val === "" ? Number.NaN : Number(val);
    else if (key === "tags") raw.tags = val.split("|").map((t) => t.trim()).filter((t) => t !== "");
    else raw[`unknown option "${key}"`] = val;
  }
  return raw;
}
