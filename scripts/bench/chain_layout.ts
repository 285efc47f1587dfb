/**
 * The streams, consumers and subjects of each chain shape that
 * `chain_shapes.ts` measures (its header says what each shape is), shared by
 * the bench and its role processes (`chain_roles.ts`, `hop.ts pull`).
 *
 * Every stream is stored as CortexOS's are (file storage, one replica, a
 * 2-minute dedupe window); the work queues are work-queue streams with a
 * durable pull consumer with explicit acks.
 *
 * @module
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";

/** The shapes, in the order the table shows them. */
export const SHAPES = ["F", "S5", "S4", "R", "G", "W", "H"] as const;
/** One chain shape. */
export type Shape = typeof SHAPES[number];

/** The consumer the "scheduler" pulls submissions (and in S5 reports) from. */
export const SCHEDULER_CONSUMER = "sched";
/** The consumer the workers (the floor's responders) share. */
export const WORKER_CONSUMER = "workers";

const lower = (shape: Shape) => shape.toLowerCase();

/** Where the client stores each job (W: a per-topic subject, topic `echo`). */
export const submitSubject = (shape: Shape) =>
  shape === "W" ? "ch.w.submit.echo" : `ch.${lower(shape)}.submit`;
/** Where the answer to each job is published on core NATS. */
export const resultSubject = (shape: Shape) => `ch.${lower(shape)}.result`;
/** The stream the client stores submissions into. */
export const submitStream = (shape: Shape) => `CH_${shape}_SUBMIT`;
/** S5, S4, R, G: the stream the scheduler dispatches into. */
export const workSubject = (shape: Shape) => `ch.${lower(shape)}.work`;
/** S5, S4, R, G. */
export const workStream = (shape: Shape) => `CH_${shape}_WORK`;
/** S5: the stream the workers store attempt reports into. */
export const attemptSubject = (shape: Shape) => `ch.${lower(shape)}.attempt`;
/** S5. */
export const attemptStream = (shape: Shape) => `CH_${shape}_ATTEMPTS`;
/**
 * H: the core subject the scheduler forwards admitted jobs of topic `echo`
 * to, `<job id> <ack subject of its submission>`, the workers' queue group
 * `workers` taking each.
 */
export const runSubject = (shape: Shape) => `ch.${lower(shape)}.run.echo`;
/**
 * H: jobs forwarded and not yet acked by a worker, at most: the submit
 * consumer's max_ack_pending, the workers' slots (2 workers, each taking
 * what a worker of the other chains keeps buffered, 200).
 */
export const FORWARDED_AT_MOST = 400;
/** S4, G, W, H: the core subject workers send reports to (a request). */
export const reportSubject = (shape: Shape) => `ch.${lower(shape)}.report`;
/** S5, S4, R: the KV-like ledger, one subject per job: `<prefix><job id>`. */
export const ledgerKeyPrefix = (shape: Shape) => `ch.${lower(shape)}.job.`;
/** G, W, H: the one subject of the group-committed ledger. */
export const ledgerLogSubject = (shape: Shape) => `ch.${lower(shape)}.ledger`;
/** Every shape but F: the ledger's stream. */
export const ledgerStream = (shape: Shape) => `CH_${shape}_LEDGER`;

/** The streams of `shape` (their sequences count its stored writes). */
export function streamsOf(shape: Shape): string[] {
  const out = [submitStream(shape)];
  if (shape !== "F") out.push(ledgerStream(shape));
  if (shape !== "F" && shape !== "W" && shape !== "H") {
    out.push(workStream(shape));
  }
  if (shape === "S5") out.push(attemptStream(shape));
  return out;
}

const DEDUPE = nanos(120_000);

function workQueue(
  name: string,
  subjects: string[],
): Partial<StreamConfig> & { name: string } {
  return {
    name,
    subjects,
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: 1,
    duplicate_window: DEDUPE,
  };
}

/** Makes (anew) the streams and consumers of `shape`. */
export async function makeStreams(
  jsm: JetStreamManager,
  shape: Shape,
): Promise<void> {
  for (const name of streamsOf(shape)) {
    await jsm.streams.delete(name).catch(() => false);
  }
  const consumer = async (
    stream: string,
    name: string,
    filter?: string,
  ) => {
    await jsm.consumers.add(stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      // The floor's 5 s, as in `deno task bench`; the chains' longer, so
      // that a job waiting its turn in a loaded chain is never redelivered.
      ack_wait: nanos(shape === "F" ? 5_000 : 30_000),
      max_ack_pending: shape === "H" ? FORWARDED_AT_MOST : 20_000,
      ...(filter ? { filter_subject: filter } : {}),
    });
  };
  const submits = shape === "W" ? ["ch.w.submit.>"] : [submitSubject(shape)];
  await jsm.streams.add(workQueue(submitStream(shape), submits));
  const workersTakeSubmissions = shape === "F" || shape === "W";
  await consumer(
    submitStream(shape),
    workersTakeSubmissions ? WORKER_CONSUMER : SCHEDULER_CONSUMER,
    shape === "W" ? submitSubject(shape) : undefined,
  );
  if (shape === "F") return;
  if (shape === "S5" || shape === "S4" || shape === "R") {
    // A KV bucket's stream as nats.js's Kvm makes it (history 1, rollups,
    // direct gets), its entries written with the same headers as kv.create
    // and kv.update: raw subjects instead of `$KV.<bucket>.`.
    await jsm.streams.add({
      name: ledgerStream(shape),
      subjects: [`${ledgerKeyPrefix(shape)}>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: 1,
      max_msgs_per_subject: 1,
      discard: DiscardPolicy.New,
      allow_rollup_hdrs: true,
      deny_delete: true,
      allow_direct: true,
      duplicate_window: DEDUPE,
    });
  } else {
    await jsm.streams.add({
      name: ledgerStream(shape),
      subjects: [ledgerLogSubject(shape)],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: 1,
      duplicate_window: DEDUPE,
    });
  }
  if (shape === "W" || shape === "H") return;
  await jsm.streams.add(workQueue(workStream(shape), [workSubject(shape)]));
  await consumer(workStream(shape), WORKER_CONSUMER);
  if (shape === "S5") {
    await jsm.streams.add(
      workQueue(attemptStream(shape), [attemptSubject(shape)]),
    );
    await consumer(attemptStream(shape), SCHEDULER_CONSUMER);
  }
}
