/**
 * The echo worker's settings (see the README's configuration table).
 *
 * @module
 */
import { COMMON, fraction, int, list, text } from "../config.ts";
import { DURABILITY, RETRY_SETTINGS } from "../bus/durable/mode.ts";
import { EXIT_WITH_PARENT } from "../shutdown.ts";

/** Every variable the echo worker process reads. */
export const WORKER_SETTINGS = {
  ...COMMON,
  workerId: text(
    "CORTEX_WORKER_ID",
    "",
    "this worker's id (default: echo-<random>, unique per process)",
  ),
  region: text(
    "CORTEX_WORKER_REGION",
    "local",
    "region reported in heartbeats",
  ),
  capabilities: list(
    "CORTEX_WORKER_CAPABILITIES",
    ["echo"],
    "capabilities reported in heartbeats (comma-separated)",
  ),
  concurrency: int(
    "CORTEX_WORKER_CONCURRENCY",
    1,
    "jobs this worker runs at once",
    1,
    10_000,
  ),
  minMs: int(
    "CORTEX_ECHO_MIN_MS",
    100,
    "shortest echo work time, in ms",
    0,
    3_600_000,
  ),
  maxMs: int(
    "CORTEX_ECHO_MAX_MS",
    500,
    "longest echo work time, in ms",
    0,
    3_600_000,
  ),
  failRate: fraction(
    "CORTEX_ECHO_FAIL_RATE",
    0,
    'chance (0 to 1) that an echo attempt fails with "simulated failure", to watch retries',
  ),
  heartbeatMs: int(
    "CORTEX_HEARTBEAT_MS",
    5_000,
    "heartbeat interval, in ms",
    1,
  ),
  durability: DURABILITY,
  ackWaitMs: int(
    "CORTEX_ACK_WAIT_MS",
    5_000,
    "durable mode: how long a job's lease lasts without a sign of life from its worker, in ms (a dead worker's jobs go elsewhere after it)",
    1_000,
    3_600_000,
  ),
  ...RETRY_SETTINGS,
  exitWithParent: EXIT_WITH_PARENT,
};
