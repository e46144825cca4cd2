// The product owner's original submit design, as a peer for the submit scenario (bench/README.md):
// Express, multer with memory storage and a MIME fileFilter, mysql2, and fetch to ComfyUI.
// POST /api/tasks parses the upload, inserts a row, uploads the image to ComfyUI, queues the
// prompt, updates the row and answers 202. No magic-byte check, no user lookup, no stored copy of
// the input: that is the design being compared, not a straw man; keep it as plain as the seed was.
//
// Environment: PORT, HOST, COMFY_URL (one ComfyUI), DATABASE_URL (mysql://...), DATABASE_NAME
// (created if missing). Prints `peer listening {"port":N}` once it serves.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import express from "express";
import multer from "multer";
import mysql from "mysql2/promise";

const comfyUrl = (process.env.COMFY_URL ?? "http://127.0.0.1:8188").replace(/\/+$/, "");
const databaseName = process.env.DATABASE_NAME ?? "aipack_peer";
const workflow = JSON.parse(readFileSync(new URL("../../../workflows/style/invert.json", import.meta.url), "utf8"));

const admin = await mysql.createConnection(process.env.DATABASE_URL ?? "mysql://root@127.0.0.1:3306");
await admin.query(`CREATE DATABASE IF NOT EXISTS \`${databaseName}\``);
await admin.end();
const db = mysql.createPool({ uri: process.env.DATABASE_URL ?? "mysql://root@127.0.0.1:3306", database: databaseName, connectionLimit: 10 });
await db.query(`CREATE TABLE IF NOT EXISTS photos (
  id CHAR(36) PRIMARY KEY,
  user_id VARCHAR(64) NOT NULL,
  workflow VARCHAR(64) NOT NULL,
  status VARCHAR(16) NOT NULL,
  prompt_id VARCHAR(64) NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL
)`);

const upload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: 10 * 1024 * 1024 },
  fileFilter: (_req, file, cb) => cb(null, ["image/png", "image/jpeg", "image/webp"].includes(file.mimetype)),
});

const app = express();
app.post("/api/tasks", upload.single("image"), async (req, res) => {
  if (!req.file) return res.status(400).json({ error: { code: "bad_request", message: "an image is required" } });
  const id = randomUUID();
  try {
    await db.execute("INSERT INTO photos (id, user_id, workflow, status, created_at, updated_at) VALUES (?, ?, ?, 'submitting', NOW(3), NOW(3))", [
      id,
      String(req.body.userId ?? ""),
      String(req.body.workflow ?? "invert"),
    ]);
    const form = new FormData();
    form.append("image", new Blob([req.file.buffer], { type: req.file.mimetype }), req.file.originalname);
    form.append("overwrite", "true");
    const uploaded = await fetch(`${comfyUrl}/upload/image`, { method: "POST", body: form });
    if (!uploaded.ok) throw new Error(`upload answered ${uploaded.status}`);
    const { name } = await uploaded.json();
    const prompt = structuredClone(workflow);
    prompt["1"].inputs.image = name;
    const queued = await fetch(`${comfyUrl}/prompt`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt, client_id: "express-seed" }),
    });
    if (!queued.ok) throw new Error(`prompt answered ${queued.status}`);
    const { prompt_id: promptId } = await queued.json();
    await db.execute("UPDATE photos SET status = 'queued', prompt_id = ?, updated_at = NOW(3) WHERE id = ?", [promptId, id]);
    res.status(202).json({ task: { id, status: "queued" } });
  } catch (error) {
    await db.execute("UPDATE photos SET status = 'failed', updated_at = NOW(3) WHERE id = ?", [id]).catch(() => undefined);
    res.status(503).json({ error: { code: "unavailable", message: String(error?.message ?? error) } });
  }
});

const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  console.log(`peer listening ${JSON.stringify({ port: server.address().port })}`);
});
process.on("SIGTERM", () => {
  server.close();
  void db.end().finally(() => process.exit(0));
});
