import { Hono } from "hono";

/**
 * The floor of the submit path: a bare Hono route that only parses the same multipart body and
 * answers 202. Run on the same runtime as the gateway (tsx or bun); the gateway's req/s divided by
 * this one's is the share of the runtime's HTTP + multipart capacity the gateway keeps.
 * Prints `baseline listening {"port":N}` once it serves. PORT and HOST as for the gateway.
 */
const app = new Hono().post("/api/tasks", async (c) => {
  const form = await c.req.parseBody();
  return c.json({ task: { id: "baseline", fields: Object.keys(form).length } }, 202);
});

const port = Number(process.env.PORT ?? 0);
const hostname = process.env.HOST ?? "127.0.0.1";

if (typeof Bun !== "undefined") {
  const server = Bun.serve({ fetch: app.fetch, port, hostname });
  console.log(`baseline listening ${JSON.stringify({ port: server.port, runtime: "bun" })}`);
} else {
  const { serve } = await import("@hono/node-server");
  serve({ fetch: app.fetch, port, hostname }, (info) => {
    console.log(`baseline listening ${JSON.stringify({ port: info.port, runtime: "node" })}`);
  });
}
