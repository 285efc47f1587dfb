// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * Durable or core: the `CORTEX_DURABILITY` setting, the settings every
 * durable process shares, and the one function that decides the mode at
 * start from the setting and what the server offers.
 *
 * @module
 */
import {
  JetStreamApiError,
  jetstreamManager,
} from "npm:@nats-io/jetstream@^3.4.0";
import { TimeoutError } from "npm:@nats-io/nats-core@^3.4.0";
import { int, oneOf, type Setting } from "../../config.ts";
import type { Logger } from "../../log.ts";
import { type JetStreamManager, SUBMIT_STREAM } from "./layout.ts";
import type { NatsConnection } from "../connect.ts";

/** The mode a process runs in: jobs kept in JetStream, or core NATS only. */
export type Durability = "jetstream" | "core";

/**
 * `CORTEX_DURABILITY`: `jetstream` (refuse to start without it), `none`
 * (core NATS: the MVP's semantics), or `auto` (the default): `jetstream`
 * when the server offers JetStream, `core` otherwise.
 */
export const DURABILITY: Setting<"auto" | "jetstream" | "none"> = oneOf(
  "CORTEX_DURABILITY",
  "auto",
  ["auto", "jetstream", "none"] as const,
  "jetstream: keep jobs in JetStream (refuse to start without it); none: core NATS; auto: jetstream when the server offers it, else core",
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
 * Whether the server this connection is on says it offers JetStream (the
 * `jetstream` flag of its INFO, sent again at every reconnect). Every
 * process on one server reads the same flag, so `auto` decides alike in all.
 */
export function offersJetStream(nc: NatsConnection): boolean {
  return nc.info?.jetstream === true;
}

/** JetStream is on, but not for the account these credentials are in. */
function notForThisAccount(error: unknown): boolean {
  // nats.js throws its JetStreamNotEnabled (not exported) for code 10039.
  return (error instanceof Error && error.name === "JetStreamNotEnabled") ||
    (error instanceof JetStreamApiError && error.code === 10039);
}

/**
 * How long a server that does not answer whether it offers JetStream is
 * asked again, in ms: a cluster without a JetStream meta leader (a node
 * killed, or all starting) answers nothing until it elects one, seconds
 * later, where a server without JetStream says so at once.
 */
export const JETSTREAM_ANSWER_WAIT_MS = 30_000;

/**
 * Decides the mode: `none` is core; `jetstream` needs a server with
 * JetStream enabled, and a server that does not answer is asked again for
 * up to `waitMs` ({@linkcode JETSTREAM_ANSWER_WAIT_MS}); `auto` is
 * `jetstream` when the server offers JetStream to this account, core
 * otherwise.
 *
 * `auto` goes by what the server says (its INFO), not by whether its
 * JetStream answers at this moment: a cluster still electing its JetStream
 * leader is durable all the same (the scheduler waits for its streams,
 * workers for theirs), so processes started together never split into
 * durable and core ones.
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
  if (setting === "none") return { mode: "core" };
  if (setting === "auto") {
    if (!offersJetStream(nc)) return { mode: "core" };
    try {
      return { mode: "jetstream", jsm: await jetstreamManager(nc) };
    } catch (error) {
      if (notForThisAccount(error)) return { mode: "core" };
      return {
        mode: "jetstream",
        jsm: await jetstreamManager(nc, { checkAPI: false }),
      };
    }
  }
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

/**
 * Says in the log when the server, after a reconnect, no longer matches the
 * mode this process runs in: a durable process on a server restarted
 * without JetStream (it waits for JetStream to return: its jobs are there),
 * or a core one on a server that now offers it (processes started from now
 * on with `auto` are durable, and a core scheduler sends them no jobs). A
 * process keeps the mode it started in: switching would split the jobs
 * between the ledger and its memory. Ends when the connection closes.
 */
export async function watchDurability(
  nc: NatsConnection,
  mode: Durability,
  log: Logger,
): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type !== "reconnect") continue;
    const offered = offersJetStream(nc);
    if (mode === "jetstream" && !offered) {
      log.error(
        "durability: jetstream, but NATS at {server} no longer offers JetStream (restarted without -js?): nothing durable works until it does; restart nats-server with -js, or restart every process with CORTEX_DURABILITY=none",
        { server: status.server },
      );
    } else if (mode === "core" && offered) {
      log.warn(
        "durability: core, but NATS at {server} now offers JetStream: processes started from now on with CORTEX_DURABILITY=auto are durable and get no jobs from a core scheduler; restart every process (or set CORTEX_DURABILITY=none everywhere)",
        { server: status.server },
      );
    }
  }
}

/**
 * For a scheduler in core mode: warns when the server holds the submissions
 * stream (left by a durable scheduler). It captures every submission, core
 * ones included, and nothing consumes it while this scheduler runs core, so
 * a durable scheduler started later would run those jobs again.
 */
export async function warnOfLingeringStreams(
  nc: NatsConnection,
  log: Logger,
): Promise<void> {
  if (!offersJetStream(nc)) return;
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    await jsm.streams.info(SUBMIT_STREAM);
  } catch {
    return; // no such stream (or no JetStream for us): nothing is captured
  }
  log.warn(
    "durability: core, but stream {stream} exists on this server (a durable scheduler made it): it stores every submission too, and a durable scheduler started later runs those jobs again. Run every process with the same CORTEX_DURABILITY, or delete the stream if no durable scheduler will run here",
    { stream: SUBMIT_STREAM },
  );
}
