// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * The client's wire work, under the SDK's {@linkcode ./submitter.ts} (and
 * so the submit CLI and the bench's load driver): the core-mode probe for a
 * scheduler, the durable publish
 * that waits for `CORTEX_SUBMIT` to store a job, the ledger look-up of
 * outcomes a client missed, and the size check.
 *
 * @module
 */
import type { JetStreamClient } from "npm:@nats-io/jetstream@^3.4.0";
import { Kvm } from "npm:@nats-io/kv@^3.4.0";
import {
  delay,
  type NatsConnection,
  NoRespondersError,
  RequestError,
} from "npm:@nats-io/nats-core@^3.4.0";
import {
  LEDGER_BUCKET,
  ledgerKey,
  SUBMIT_STREAM,
} from "../bus/durable/layout.ts";
import type { JobResult } from "../bus/messages.ts";
import { SUBMIT } from "../bus/subjects.ts";
import { isFinal } from "../contract/mod.ts";
import { decodeEntry, resultOf } from "../scheduler/ledger.ts";
import { sleep } from "../sleep.ts";

/**
 * Sends the first job as a NATS request. Nobody answers it, but the server
 * says at once when nothing subscribes to `sys.job.submit`: then no scheduler
 * runs, and every job would be lost. Resolves false in that case only.
 */
export async function firstJob(
  nc: NatsConnection,
  bytes: Uint8Array,
  waitMs: number,
): Promise<boolean> {
  try {
    await nc.request(SUBMIT, bytes, { timeout: waitMs });
  } catch (error) {
    if (error instanceof RequestError && error.isNoResponders()) return false;
  }
  return true;
}

/** Attempts at storing one job before a client gives up on it. */
export const STORE_TRIES = 4;

/**
 * How long a publish keeps trying when the stream that stored earlier jobs
 * stops answering: in a cluster, `CORTEX_SUBMIT` has no leader for a few
 * seconds after its leader's node dies, and the server says "no responders"
 * meanwhile. Job stores are not given up on for that.
 */
export const LEADERLESS_PATIENCE_MS = 30_000;

/**
 * Publishes jobs through JetStream; {@linkcode JobStore.store} resolves once
 * `CORTEX_SUBMIT` has stored one: the job is accepted. One per connection,
 * since it remembers whether the stream has answered before.
 */
export class JobStore {
  #js: Pick<JetStreamClient, "publish">;
  #streamSeen = false;

  constructor(js: Pick<JetStreamClient, "publish">) {
    this.#js = js;
  }

  /**
   * Stores one job. A publish that is not acknowledged is retried with the
   * same message id (the job id), so the stream keeps one copy whatever
   * happened to the earlier tries. "No responders" means no stream takes
   * the subject ({@linkcode NO_STREAM}) until the stream has stored a job
   * on this connection; after that it means the stream is electing a
   * leader, and is retried for {@linkcode LEADERLESS_PATIENCE_MS}.
   * Resolves the last error's message when every try failed.
   */
  async store(jobId: string, bytes: Uint8Array): Promise<string | undefined> {
    const started = performance.now();
    let waits = 0;
    for (let tryNo = 1;; tryNo++) {
      try {
        await this.#js.publish(SUBMIT, bytes, { msgID: jobId, timeout: 5_000 });
        this.#streamSeen = true;
        return undefined;
      } catch (error) {
        if (noStream(error)) {
          if (!this.#streamSeen) return NO_STREAM;
          if (performance.now() - started > LEADERLESS_PATIENCE_MS) {
            return `not stored: ${NO_STREAM} any more (for ${LEADERLESS_PATIENCE_MS} ms)`;
          }
          await delay(Math.min(250 * ++waits, 2_000));
          tryNo--; // leaderless time does not use up tries
          continue;
        }
        if (tryNo === STORE_TRIES) {
          return `not stored: ${(error as Error).message}`;
        }
        await delay(250 * 2 ** tryNo);
      }
    }
  }
}

/** What {@linkcode JobStore.store} resolves when no stream takes `sys.job.submit`. */
export const NO_STREAM = `no stream ${SUBMIT_STREAM} stores ${SUBMIT}`;

/**
 * Whether a JetStream publish failed because no stream takes the subject:
 * the server has no responder for it, which the client reports as
 * "jetstream is not enabled" (a class it does not export).
 */
export function noStream(error: unknown): boolean {
  return error instanceof NoRespondersError ||
    (error instanceof Error && error.name === "JetStreamNotEnabled");
}

/** A job waiting this long is looked up in the ledger: its result may have been missed. */
export const LOOK_UP_AFTER_MS = 2_000;
/** Most ledger look-ups per second, so a long outage costs the server little. */
export const LOOK_UPS_PER_ROUND = 100;

/**
 * Finds outcomes this client missed (published while it was reconnecting,
 * or never published because a scheduler died between recording and
 * publishing them) in the ledger: once a second, the jobs that have waited
 * longest, and hands each final one to `found` as if it had arrived.
 */
export async function lookUpMissed(
  nc: NatsConnection,
  inflight: Map<string, { sentAt: number }>,
  found: (result: JobResult) => void,
  signal: AbortSignal,
): Promise<void> {
  // `open` binds without direct gets: each read asks the stream leader.
  // A read that missed the latest write would do no harm here anyway: a
  // job not yet final is looked up again in the next round.
  const kv = await new Kvm(nc).open(LEDGER_BUCKET).catch(() => undefined);
  if (!kv) return;
  // After a reconnect every job sent before it is looked up at once: the
  // results published while this client was away (its cluster node
  // killed) are in the ledger already, and waiting for LOOK_UP_AFTER_MS
  // cost up to 3 s of a node kill.
  let reconnectedAt = -Infinity;
  let wake = new AbortController();
  (async () => {
    for await (const status of nc.status()) {
      if (signal.aborted) break;
      if (status.type === "reconnect") {
        reconnectedAt = performance.now();
        wake.abort();
      }
    }
  })().catch(() => {});
  while (!signal.aborted) {
    if (!wake.signal.aborted) {
      await sleep(1_000, AbortSignal.any([signal, wake.signal]));
    }
    wake = new AbortController();
    const due = Math.max(
      performance.now() - LOOK_UP_AFTER_MS,
      reconnectedAt,
    );
    const ids: string[] = [];
    for (const [id, { sentAt }] of inflight) {
      if (sentAt > due || ids.length >= LOOK_UPS_PER_ROUND) break;
      ids.push(id);
    }
    for (const id of ids) {
      if (signal.aborted) return;
      const value = await kv.get(ledgerKey(id)).catch(() => null);
      const entry = value?.value && decodeEntry(value.value);
      if (entry && isFinal(entry.state)) found(resultOf(entry));
    }
  }
}

/**
 * Why the jobs cannot go over `nc` at all, or `undefined`: a packet larger
 * than the server's `max_payload` would make the client throw on publish.
 * `largest` is the size of the largest packet to send.
 */
export function oversizeProblem(
  largest: number,
  maxPayload: number | undefined,
  server: string,
): string | undefined {
  if (maxPayload === undefined || maxPayload <= 0 || largest <= maxPayload) {
    return undefined;
  }
  return `each job is a ${largest}-byte packet, over the ${maxPayload}-byte limit (max_payload) of the NATS server at ${server}; send a smaller payload (the scheduler itself accepts at most CORTEX_MAX_PAYLOAD_BYTES, 64 KiB by default)`;
}
