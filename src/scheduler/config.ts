/**
 * The scheduler's settings (see the README's configuration table).
 *
 * @module
 */
import { COMMON, flag, int, list, text, type Values } from "../config.ts";
import { subjectProblem } from "../bus/subjects.ts";
import {
  DEFAULT_MAX_ENV_BYTES,
  DEFAULT_MAX_ENV_VARS,
  DEFAULT_MAX_JOB_ID_BYTES,
  DEFAULT_MAX_PAYLOAD_BYTES,
  type ValidationLimits,
} from "./validation.ts";
import { EXIT_WITH_PARENT } from "../shutdown.ts";
import { DURABILITY, STREAM_SETTINGS } from "../bus/durable/mode.ts";

const pattern = (item: string) =>
  subjectProblem(item, { wildcards: true }) && `not a NATS subject pattern`;

/** A host name, IPv4 or IPv6 address, with or without `:port`. */
const hostPattern = (item: string) =>
  /^(\[[0-9a-fA-F:.]+\]|[^\s/:@\[\]]+)(:\d{1,5})?$/.test(item) ||
    /^[0-9a-fA-F.]*:[0-9a-fA-F.]*:[0-9a-fA-F:.]*$/.test(item)
    ? undefined
    : "not a host name, address or host:port";

/** Every variable the scheduler process reads. */
export const SCHEDULER_SETTINGS = {
  ...COMMON,
  maxPayloadBytes: int(
    "CORTEX_MAX_PAYLOAD_BYTES",
    DEFAULT_MAX_PAYLOAD_BYTES,
    "largest job payload accepted, in bytes",
    0,
    64 * 1024 * 1024,
  ),
  safetyDeny: list(
    "CORTEX_SAFETY_DENY",
    [],
    "topic patterns to deny, besides sys.destroy (NATS wildcards, comma-separated)",
    pattern,
  ),
  safetyAllow: list(
    "CORTEX_SAFETY_ALLOW",
    [],
    "when set, only topics matching one of these patterns are allowed",
    pattern,
  ),
  jobTimeoutMs: int(
    "CORTEX_JOB_TIMEOUT_MS",
    60_000,
    "a dispatched job with no result after this long is TIMEOUT",
    1,
  ),
  jobTableSize: int(
    "CORTEX_JOB_TABLE_SIZE",
    10_000,
    "most jobs the job table holds (oldest finished evicted first)",
    1,
  ),
  heartbeatMs: int(
    "CORTEX_HEARTBEAT_MS",
    5_000,
    "the workers' heartbeat interval, which liveness is judged by",
    1,
  ),
  staleAfterBeats: int(
    "CORTEX_WORKER_STALE_BEATS",
    2,
    "missed heartbeats before a worker is stale",
    1,
  ),
  offlineAfterBeats: int(
    "CORTEX_WORKER_OFFLINE_BEATS",
    3,
    "missed heartbeats before a worker is offline",
    1,
  ),
  forgetAfterMs: int(
    "CORTEX_WORKER_FORGET_MS",
    300_000,
    "how long an offline worker stays listed",
    0,
  ),
  registrySize: int(
    "CORTEX_REGISTRY_SIZE",
    10_000,
    "most workers the registry holds (heartbeats of new ones are ignored beyond)",
    1,
  ),
  schedulerId: text(
    "CORTEX_SCHEDULER_ID",
    "",
    "this scheduler's sender id (default: scheduler-<random>)",
  ),
  dashboard: flag(
    "CORTEX_DASHBOARD",
    true,
    "serve the dashboard and its API (on or off)",
  ),
  dashboardHost: text(
    "CORTEX_DASHBOARD_HOST",
    "127.0.0.1",
    "address the dashboard listens on",
  ),
  dashboardPort: int(
    "CORTEX_DASHBOARD_PORT",
    8080,
    "port the dashboard listens on (0: any free port)",
    0,
    65535,
  ),
  dashboardToken: text(
    "CORTEX_DASHBOARD_TOKEN",
    "",
    "bearer token the API requires; needed to listen beyond loopback",
  ),
  durability: DURABILITY,
  ...STREAM_SETTINGS,
  maxAttempts: int(
    "CORTEX_MAX_ATTEMPTS",
    3,
    "attempts of a job that does not say (max_attempts 0), in durable mode",
    1,
    100,
  ),
  exitWithParent: EXIT_WITH_PARENT,
  historyDir: text(
    "CORTEX_HISTORY_DIR",
    ".data/history",
    "folder of the dashboard's history: one SQLite file per scheduler, emptied at its start (the only place it may write)",
  ),
  dashboardAllowedHosts: list(
    "CORTEX_DASHBOARD_ALLOWED_HOSTS",
    [],
    "Host names the dashboard answers to besides loopback and its own (comma-separated, port optional); others get 421",
    hostPattern,
  ),
  maxJobIdBytes: int(
    "CORTEX_MAX_JOB_ID_BYTES",
    DEFAULT_MAX_JOB_ID_BYTES,
    "longest job id accepted, in UTF-8 bytes",
    1,
    64 * 1024,
  ),
  maxEnvVars: int(
    "CORTEX_MAX_ENV_VARS",
    DEFAULT_MAX_ENV_VARS,
    "most environment variables a job may carry",
    0,
    100_000,
  ),
  maxEnvBytes: int(
    "CORTEX_MAX_ENV_BYTES",
    DEFAULT_MAX_ENV_BYTES,
    "most bytes of environment (names and values) a job may carry",
    0,
    64 * 1024 * 1024,
  ),
};

/**
 * The {@linkcode ValidationLimits} of a loaded configuration.
 *
 * @example
 * ```ts
 * const limits = validationLimits(loadConfig(SCHEDULER_SETTINGS));
 * ```
 */
export function validationLimits(
  config: Values<typeof SCHEDULER_SETTINGS>,
): ValidationLimits {
  return {
    maxPayloadBytes: config.maxPayloadBytes,
    maxJobIdBytes: config.maxJobIdBytes,
    maxEnvVars: config.maxEnvVars,
    maxEnvBytes: config.maxEnvBytes,
  };
}
