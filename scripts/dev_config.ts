/**
 * The settings `deno task dev` reads; its `--allow-env` lists exactly these
 * (and the dashboard address, which the scheduler's flags depend on).
 *
 * @module
 */
import { envNames, int, natsUrl, text } from "../src/config.ts";

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
};

/**
 * The variables the `dev` task may read: its own settings, and the
 * dashboard's address, which the scheduler's permission flags depend on.
 */
export const DEV_ENV_NAMES: readonly string[] = [
  ...envNames(DEV_SETTINGS),
  "CORTEX_DASHBOARD",
  "CORTEX_DASHBOARD_HOST",
  "CORTEX_DASHBOARD_PORT",
];
