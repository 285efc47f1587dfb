// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * Durable or core: the `CORTEX_DURABILITY` setting, the settings every
 * durable process shares, and the one function that decides the mode at
 * start from the setting and what the server offers.
 *
 * @module
 */
import { jetstreamManager } from "npm:@nats-io/jetstream@^3.4.0";
import { TimeoutError } from "npm:@nats-io/nats-core@^3.4.0";
import { int, oneOf, type Setting } from "../../config.ts";
import type { JetStreamManager } from "./layout.ts";
import type { NatsConnection } from "../connect.ts";

/** The mode a process runs in: jobs kept in JetStream, or core NATS only. */
export type Durability = "jetstream" | "core";

/**
 * `CORTEX_DURABILITY`: `jetstream` (refuse to start without it), `none`
 * (core NATS: the MVP's semantics), or `auto`.
 *
 * `auto` is core for now: durable mode is being built in steps (issue 9),
 * and becomes the default of `auto` on a JetStream server once it is whole.
 */
export const DURABILITY: Setting<"auto" | "jetstream" | "none"> = oneOf(
  "CORTEX_DURABILITY",
  "auto",
  ["auto", "jetstream", "none"] as const,
  "jetstream: keep jobs in JetStream (refuse to start without it); none: core NATS; auto: core for now",
);

/** The settings of the streams, which the scheduler makes and updates. */
export const STREAM_SETTINGS = {
  replicas: int(
    "CORTEX_STREAM_REPLICAS",
    1,
    "replicas of each stream and of the ledger (3 on a 3-node cluster)",
    1,
    5,
  ),
  dedupeWindowMs: int(
    "CORTEX_DEDUPE_WINDOW_MS",
    120_000,
    "how long a submission's job id is remembered by the stream, in ms",
    1_000,
    86_400_000,
  ),
  historyMs: int(
    "CORTEX_HISTORY_MS",
    86_400_000,
    "how long the ledger keeps a job, in ms",
    60_000,
  ),
};

/** How workers retry a failed attempt in durable mode. */
export const RETRY_SETTINGS = {
  retryBaseMs: int(
    "CORTEX_RETRY_BASE_MS",
    1_000,
    "delay before the second attempt of a failed job, in ms (doubles per attempt, with jitter)",
    0,
    3_600_000,
  ),
  retryMaxMs: int(
    "CORTEX_RETRY_MAX_MS",
    30_000,
    "longest delay between attempts, in ms",
    0,
    86_400_000,
  ),
};

/** The server does not offer what `CORTEX_DURABILITY=jetstream` asks for. */
export class DurabilityUnavailable extends Error {
  /** Shown before the message in logs and stack traces. */
  override name = "DurabilityUnavailable";
}

/** The mode chosen, with the JetStream manager when it is `jetstream`. */
export type ResolvedDurability =
  | { mode: "jetstream"; jsm: JetStreamManager }
  | { mode: "core" };

/**
 * How long a server that does not answer whether it offers JetStream is
 * asked again, in ms: a cluster without a JetStream meta leader (a node
 * killed, or all starting) answers nothing until it elects one, seconds
 * later, where a server without JetStream says so at once.
 */
export const JETSTREAM_ANSWER_WAIT_MS = 30_000;

/**
 * Decides the mode: `none` is core; `jetstream` needs a server with
 * JetStream enabled; `auto` is core until durable mode is whole. A server
 * that does not answer is asked again for up to `waitMs`
 * ({@linkcode JETSTREAM_ANSWER_WAIT_MS}).
 *
 * @throws {DurabilityUnavailable} for `jetstream` on a server without
 * JetStream, or one that has not answered within `waitMs`, saying how to
 * enable it.
 */
export async function resolveDurability(
  nc: NatsConnection,
  setting: "auto" | "jetstream" | "none",
  waitMs = JETSTREAM_ANSWER_WAIT_MS,
): Promise<ResolvedDurability> {
  if (setting !== "jetstream") return { mode: "core" };
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return { mode: "jetstream", jsm: await jetstreamManager(nc) };
    } catch (error) {
      if (error instanceof TimeoutError) {
        if (Date.now() < deadline) continue;
        throw new DurabilityUnavailable(
          `CORTEX_DURABILITY=jetstream, but the NATS server has not said whether it offers JetStream within ${
            waitMs / 1000
          } s (a cluster without a JetStream meta leader answers nothing): check that every node runs with -js and that a majority of them are up, or set CORTEX_DURABILITY=none`,
        );
      }
      throw new DurabilityUnavailable(
        `CORTEX_DURABILITY=jetstream, but the NATS server does not offer JetStream (${
          error instanceof Error ? error.message : String(error)
        }): start nats-server with -js (deno task dev does), or set CORTEX_DURABILITY=none`,
      );
    }
  }
}
