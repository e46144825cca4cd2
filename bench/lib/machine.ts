import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { root } from "./gateway.ts";

/** What the figures were measured on: they mean little without it. */
export interface MachineInfo {
  date: string;
  node: string;
  bun: string;
  cores: number;
  memoryGiB: number;
  cpu: string;
  kernel: string;
}

export function machineInfo(): MachineInfo {
  const cpuinfo = safe(() => readFileSync("/proc/cpuinfo", "utf8"), "");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    node: safe(() => execFileSync("node", ["--version"], { encoding: "utf8" }).trim(), process.version),
    bun: safe(() => execFileSync(path.join(root, "node_modules/.bin/bun"), ["--version"], { encoding: "utf8" }).trim(), "unavailable"),
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    cpu: model,
    kernel: `${os.type()} ${os.release()}`,
  };
}

function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
