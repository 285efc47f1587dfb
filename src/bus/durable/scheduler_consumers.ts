/**
 * The scheduler replicas' two shared pull consumers: of submissions
 * ({@linkcode SUBMIT_CONSUMER} on {@linkcode SUBMIT_STREAM}) and of attempt
 * reports ({@linkcode ATTEMPT_CONSUMER} on {@linkcode ATTEMPT_STREAM}),
 * made or brought to these settings at every start (idempotent: every
 * replica runs it).
 *
 * @module
 */
import { AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import type { JetStreamClient, JsMsg } from "./client_types.ts";
import { BoundedWarnings } from "../../bounded_warnings.ts";
import { errorMessage, type Logger } from "../../log.ts";
import {
  ATTEMPT_CONSUMER,
  ATTEMPT_STREAM,
  type JetStreamManager,
  SUBMIT_CONSUMER,
  SUBMIT_STREAM,
} from "./layout.ts";

/**
 * How long a replica may hold a submission or a report before JetStream
 * gives it to another: each needs one or two stored writes, milliseconds
 * even under load, so this matters only for a replica that died, whose
 * messages in hand wait this long. Taking longer is harmless (a second
 * handling is idempotent), so it is short: 30 s made a scheduler killed
 * mid-load take 30 s to finish its jobs after restarting.
 */
export const SCHEDULER_ACK_WAIT_MS = 5_000;

/**
 * Most submissions (and, apart, reports) held unacknowledged across all
 * replicas: what a replica works on at once, so a burst of 100,000
 * submissions is taken in steps rather than all into memory.
 */
export const SCHEDULER_MAX_ACK_PENDING = 1_024;

/** Makes the two consumers, or updates them to these settings when they exist. */
export async function ensureSchedulerConsumers(
  jsm: JetStreamManager,
): Promise<void> {
  for (
    const [stream, name] of [
      [SUBMIT_STREAM, SUBMIT_CONSUMER],
      [ATTEMPT_STREAM, ATTEMPT_CONSUMER],
    ]
  ) {
    const settings = {
      ack_wait: nanos(SCHEDULER_ACK_WAIT_MS),
      max_ack_pending: SCHEDULER_MAX_ACK_PENDING,
      max_deliver: -1,
    };
    const exists = await jsm.consumers.info(stream, name).then(
      () => true,
      () => false,
    );
    if (exists) {
      await jsm.consumers.update(stream, name, settings);
    } else {
      await jsm.consumers.add(stream, {
        ...settings,
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
      });
    }
  }
}

/** Messages a replica asks JetStream for per pull. */
const PULL_BATCH = 256;
/** How long one pull request lives, in ms. */
const PULL_EXPIRES_MS = 5_000;
/**
 * How often the server says an open pull request is alive, in ms: two
 * missed (1 s) and it is asked again. The least nats.js allows; two small
 * messages a second per replica and consumer while idle.
 */
const PULL_HEARTBEAT_MS = 500;
/**
 * How long before a submission or report whose handling failed is tried
 * again, in ms: short, because in a cluster it failed mostly on a stream
 * or bucket without a leader (4-9 s after a node dies), and each try
 * then costs one fast refusal; at 1 s it added up to a second to every
 * node kill.
 */
const RETRY_DELAY_MS = 250;

/**
 * Pulls from a shared consumer and handles each message without waiting
 * for the one before (the consumer's max ack pending bounds how many are
 * in hand); a message whose handling fails is nak'ed, to come back.
 *
 * @example
 * ```ts
 * const pull = await pullEach(js, SUBMIT_STREAM, SUBMIT_CONSUMER, (m) => intake.admit(m), log);
 * pull.stop();
 * ```
 */
export async function pullEach(
  js: JetStreamClient,
  stream: string,
  name: string,
  handle: (m: JsMsg) => Promise<void>,
  log: Logger,
): Promise<{ stop(): void }> {
  const consumer = await js.consumers.get(stream, name);
  // A pull request stranded on a cluster node that died, or on a consumer
  // whose leader did, is noticed by its missed heartbeats (1 s) and asked
  // again at once. `bind` skips nats.js's consumer-info check before that
  // new request: while the consumer has no leader the check times out and
  // then backs off for up to 7.5 s, which made a node kill cost the
  // scheduler 5-14 s; the consumers are made at start, so there is nothing
  // to check.
  const messages = await consumer.consume({
    max_messages: PULL_BATCH,
    expires: PULL_EXPIRES_MS,
    idle_heartbeat: PULL_HEARTBEAT_MS,
    bind: true,
  });
  // While a stream has no leader, every message in hand fails four times
  // a second: a few are said, the rest counted.
  const warnings = new BoundedWarnings(log, `retries of ${stream} messages`);
  (async () => {
    for await (const m of messages) {
      handle(m).catch((error) => {
        warnings.warn("{stream} message {seq} is tried again: {error}", {
          stream,
          seq: m.seq,
          error: errorMessage(error),
        });
        m.nak(RETRY_DELAY_MS);
      });
    }
  })().catch((error) =>
    log.error("pulling from {stream} ended: {error}", {
      stream,
      error: errorMessage(error),
    })
  );
  return { stop: () => messages.stop() };
}
