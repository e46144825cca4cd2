import { parseArgs } from "node:util";
import { createAdminKey, createFrontendKey, listKeys, revokeKey } from "../auth/key-admin.ts";
import { generateKey } from "../lib/key-format.ts";
import { isKnownFrontend } from "../controllers/db-controller-map.ts";
import { systemClock } from "../lib/clock.ts";
import { openControllers } from "./build-deps.ts";
import { loadConfigOrExit } from "./load-config.ts";

// `npm run keys -- <command>`: the operator's key management. A new key is printed once, here.
const usage = `usage: npm run keys -- <command>
  create --frontend <name> [--label <text>]   a new key of one frontend (stored hashed in its database)
  create --admin [--label <text>]              a new admin key (stored hashed in DATA_DIR/auth)
  generate --frontend <name>                   a key for API_KEYS (containers); not stored anywhere
  list                                         every key's id, scope, label, dates (never the key)
  revoke <id>                                  stops a key (on every replica within 5 s)`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { frontend: { type: "string" }, admin: { type: "boolean" }, label: { type: "string" } },
});
const [command, argument] = positionals;
const config = loadConfigOrExit();

function fail(message: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}

function frontendArgument(): string {
  const frontend = values.frontend;
  if (!frontend || !isKnownFrontend(frontend) || !config.frontends.includes(frontend)) fail(`--frontend: one of ${config.frontends.join(", ")}`);
  return frontend;
}

if (command === "generate") {
  const { key, id } = generateKey(frontendArgument());
  console.log(`key ${id} (not stored; add it to API_KEYS):\n${key}`);
  process.exit(0);
}
if (command === "create" && values.admin) {
  const { key, id } = createAdminKey(config.dataDir, values.label);
  console.log(`admin key ${id} (shown once):\n${key}`);
  process.exit(0);
}

const controllers = openControllers(config, systemClock);
try {
  if (command === "create") {
    const controller = controllers.get(frontendArgument() as never)!;
    const { key, id } = await createFrontendKey(controller, values.label);
    console.log(`${controller.frontend} key ${id} (shown once):\n${key}`);
  } else if (command === "list") {
    for (const key of await listKeys(config.dataDir, controllers.values())) {
      const state = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : "active";
      console.log(`${key.id}  ${key.scope.padEnd(8)}  ${state.padEnd(32)}  created ${key.createdAt.toISOString()}  ${key.label ?? ""}`);
    }
  } else if (command === "revoke") {
    if (!argument) fail("revoke: which key id?");
    if (!(await revokeKey(config.dataDir, controllers.values(), argument))) fail(`no key with id ${argument}`);
    console.log(`revoked ${argument}`);
  } else {
    fail(command ? `unknown command "${command}"` : "a command is needed");
  }
} finally {
  await Promise.allSettled([...controllers.values()].map((controller) => controller.close()));
}
process.exit(0);
