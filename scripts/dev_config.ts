/**
 * The settings `deno task dev` reads; its `--allow-env` lists exactly these
 * (and the dashboard address, which the scheduler's flags depend on).
 *
 * @module
 */
import {
  envNames,
  flag,
  int,
  NATS_AUTH_FILE_SETTINGS,
  natsUrl,
  text,
} from "../src/config.ts";

/** Every variable `scripts/dev.ts` reads itself. */
export const DEV_SETTINGS = {
  natsUrl: {
    ...natsUrl(),
    default: "",
    describe:
      "an existing NATS server to use; unset: dev starts nats-server on 127.0.0.1",
  },
  workers: int(
    "CORTEX_DEV_WORKERS",
    2,
    "how many echo workers dev starts",
    0,
    64,
  ),
  natsServer: text(
    "CORTEX_NATS_SERVER",
    "nats-server",
    "the nats-server binary dev starts (a name on PATH, or a path)",
  ),
  natsCluster: int(
    "CORTEX_DEV_NATS_CLUSTER",
    1,
    "how many nats-server nodes dev starts: 1, one server; 3, a loopback JetStream cluster (routes, a store each, streams with 3 replicas, every process given every node's URL)",
    1,
    5,
  ),
  workerFiles: text(
    "CORTEX_DEV_WORKER_FILES",
    "",
    "worker files (SDK, comma-separated, relative to the project) dev also starts, each as `deno task worker <file>` does: with the permissions its header declares",
  ),
  auth: flag(
    "CORTEX_DEV_AUTH",
    true,
    "on: the nats-server dev starts admits only the nkeys it makes in .data/nkeys (one per role); off: anyone may connect",
  ),
};

/**
 * The variables the `dev` task may read: its own settings, the dashboard's
 * address, which the scheduler's permission flags depend on, and the NATS
 * credential files (with NATS_URL set, the children use them, and may
 * read them).
 */
export const DEV_ENV_NAMES: readonly string[] = [
  ...envNames(DEV_SETTINGS),
  "CORTEX_DASHBOARD",
  "CORTEX_DASHBOARD_HOST",
  "CORTEX_DASHBOARD_PORT",
  "CORTEX_HISTORY_DIR",
  ...NATS_AUTH_FILE_SETTINGS.map((s) => s.env),
];

/** Where dev keeps the nkey of each role, relative to the project root. */
export const DEV_NKEYS_DIR = ".data/nkeys";
