/**
 * The "scheduler" and the "workers" of one chain shape of
 * `chain_shapes.ts` (its header describes the shapes), each as its own
 * process, as CortexOS's are: raw bytes (a job is its id in ASCII), no
 * decoding, no CortexOS code.
 *
 *   chain_roles.ts <nats-url> <S5|S4|R|G|W|H> scheduler|worker
 *
 * Every scheduler also watches its ledger stream (an ordered consumer from
 * the first new entry, as each CortexOS replica watches the ledger bucket),
 * and every process writes its socket once per turn of the event loop, as
 * CortexOS's durable processes do (src/bus/durable/coalesced_writes.ts).
 * Prints `ready` once its consumers are live; exits when standard input
 * closes, or after twenty minutes whatever happens.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import {
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import {
  attemptStream,
  attemptSubject,
  ledgerKeyPrefix,
  ledgerLogSubject,
  ledgerStream,
  reportSubject,
  resultSubject,
  runSubject,
  SCHEDULER_CONSUMER,
  type Shape,
  submitStream,
  WORKER_CONSUMER,
  workStream,
  workSubject,
} from "./chain_layout.ts";
import { Replies } from "./chain_replies.ts";

const MAX_LIFE_MS = 20 * 60_000;
/** Messages a pull consumer keeps buffered, as the floor's responders. */
const BUFFERED = 200;

const [url, shapeArg, role] = Deno.args;
const shape = shapeArg as Shape;
if (
  !url || !["S5", "S4", "R", "G", "W", "H"].includes(shape) ||
  !["scheduler", "worker"].includes(role)
) {
  console.error(
    "usage: chain_roles.ts <nats-url> <S5|S4|R|G|W|H> scheduler|worker",
  );
  Deno.exit(2);
}

const nc = await connect({
  servers: url,
  name: `chain-${shape}-${role}`,
  noAsyncTraces: true,
});
coalesceWrites(nc);
const js = jetstream(nc);
const replies = new Replies(nc);
const text = new TextDecoder();
const fail = (what: string) => (error: unknown) =>
  console.error(`${shape} ${role}: ${what}: ${error}`);

/** `tag` then `data`: a ledger record of the job `data` names. */
function record(tag: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1);
  out[0] = tag;
  out.set(data, 1);
  return out;
}
const QUEUED = 0x51; // "Q"
const FINAL = 0x46; // "F"

/** Pulls `consumer` of `stream`, handing each message to `handle`. */
async function pull(
  stream: string,
  consumer: string,
  handle: (msg: JsMsg) => void,
): Promise<void> {
  const c = await js.consumers.get(stream, consumer);
  await c.consume({ max_messages: BUFFERED, callback: handle });
}

if (role === "worker" && shape === "R") {
  // The worker records its attempt itself: a compare-and-set on the
  // revision the dispatch carries (`<job id>@<revision>`), then the result.
  await pull(workStream(shape), WORKER_CONSUMER, (msg) => {
    const dispatch = text.decode(msg.data);
    const at = dispatch.lastIndexOf("@");
    const id = new TextEncoder().encode(dispatch.slice(0, at));
    replies.store(
      ledgerKeyPrefix(shape) + dispatch.slice(0, at),
      record(FINAL, id),
      {
        lastSubjectSeq: Number(dispatch.slice(at + 1)),
      },
    ).then(() => {
      nc.publish(resultSubject(shape), id);
      msg.ack();
    }, fail("record"));
  });
} else if (role === "worker" && shape === "H") {
  // The forward is `<job id> <ack subject>`: a no-op job, its report, and
  // once the scheduler answered (its final record stored) the ack of the
  // submission, which the scheduler leaves to the worker.
  const ack = new TextEncoder().encode("+ACK");
  nc.subscribe(runSubject(shape), {
    queue: "workers",
    callback: (_error, msg) => {
      const at = msg.data.indexOf(0x20);
      const ackSubject = text.decode(msg.data.subarray(at + 1));
      replies.request(reportSubject(shape), msg.data.subarray(0, at)).then(
        () => nc.publish(ackSubject, ack),
        fail("report"),
      );
    },
  });
} else if (role === "worker") {
  // A no-op job: the worker's only work is its report, then its ack.
  const from = shape === "W" ? submitStream(shape) : workStream(shape);
  await pull(from, WORKER_CONSUMER, (msg) => {
    const done = shape === "S5"
      ? replies.store(attemptSubject(shape), msg.data, {
        msgID: `${text.decode(msg.data)}#1`,
      })
      // The scheduler answers once the report is recorded: only then is
      // the work message acked (redelivered and run again otherwise).
      : replies.request(reportSubject(shape), msg.data);
    done.then(() => msg.ack(), fail("report"));
  });
} else {
  const watched = await js.consumers.get(ledgerStream(shape), {
    deliver_policy: DeliverPolicy.New,
  });
  // Each replica reads every entry; the bench only receives them.
  await watched.consume({ callback: () => {} });
  if (shape === "S5" || shape === "S4" || shape === "R") await perJobLedger();
  else await groupCommit(nc);
}
await nc.flush();
console.log("ready");

/**
 * S5, S4, R: one KV-like entry per job, created, then compare-and-set (by
 * the scheduler, or in R by the worker).
 */
async function perJobLedger(): Promise<void> {
  const revisions = new Map<string, number>();
  const key = (id: string) => ledgerKeyPrefix(shape) + id;
  await pull(submitStream(shape), SCHEDULER_CONSUMER, async (msg) => {
    const id = text.decode(msg.data);
    try {
      // kv.create: stored only while the job's subject has no entry.
      const revision = await replies.store(key(id), record(QUEUED, msg.data), {
        lastSubjectSeq: 0,
      });
      const dispatch = shape === "R"
        ? new TextEncoder().encode(`${id}@${revision}`)
        : msg.data;
      if (shape !== "R") revisions.set(id, revision);
      await replies.store(workSubject(shape), dispatch, { msgID: id });
      msg.ack();
    } catch (error) {
      fail("admit")(error);
    }
  });
  const finish = async (data: Uint8Array): Promise<void> => {
    const id = text.decode(data);
    // kv.update: stored only while the entry is the one this replica wrote.
    await replies.store(key(id), record(FINAL, data), {
      lastSubjectSeq: revisions.get(id) ?? 0,
    });
    revisions.delete(id);
    nc.publish(resultSubject(shape), data);
  };
  if (shape === "R") return;
  if (shape === "S5") {
    await pull(attemptStream(shape), SCHEDULER_CONSUMER, (msg) => {
      finish(msg.data).then(() => msg.ack(), fail("record"));
    });
  } else {
    nc.subscribe(reportSubject(shape), {
      queue: "sched",
      callback: (_error, msg) => {
        finish(msg.data).then(() => msg.respond(), fail("record"));
      },
    });
  }
}

/**
 * G, W, H: one ledger message per turn of the event loop holding every
 * record of that turn (admissions and finals), fenced by the stream's
 * expected last sequence: this scheduler is its only writer, so it
 * predicts each write's sequence and pipelines them; a write by anyone
 * else fails the fence of this one and of every later one. H admits in
 * memory (no admission record) and forwards on core NATS.
 */
async function groupCommit(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  let lastSeq = (await jsm.streams.info(ledgerStream(shape))).state.last_seq;
  let admits: JsMsg[] = [];
  let reports: Msg[] = [];
  let scheduled = false;
  // This turn's write, resolved once stored.
  let turn = Promise.withResolvers<void>();
  // H: the ledger's index in memory: each job recorded final (or in this
  // turn's record), with the write that stores it.
  const finals = new Map<string, Promise<void>>();
  const encoder = new TextEncoder();
  const commit = () => {
    scheduled = false;
    const [a, r, written] = [admits, reports, turn];
    admits = [];
    reports = [];
    turn = Promise.withResolvers();
    const parts = [
      ...a.map((m) => record(QUEUED, m.data)),
      ...r.map((m) => record(FINAL, m.data)),
    ];
    const body = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
    let at = 0;
    for (const p of parts) {
      body.set(p, at);
      body[at + p.length] = 0x0a;
      at += p.length + 1;
    }
    const fence = lastSeq++;
    replies.store(ledgerLogSubject(shape), body, { lastSeq: fence }).then(
      () => {
        for (const m of a) {
          replies.store(workSubject(shape), m.data, {
            msgID: text.decode(m.data),
          }).then(() => m.ack(), fail("dispatch"));
        }
        for (const m of r) {
          nc.publish(resultSubject(shape), m.data);
          m.respond();
        }
        written.resolve();
      },
      fail("commit"),
    );
  };
  const later = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(commit);
  };
  if (shape === "G") {
    await pull(submitStream(shape), SCHEDULER_CONSUMER, (msg) => {
      admits.push(msg);
      later();
    });
  } else if (shape === "H") {
    await pull(submitStream(shape), SCHEDULER_CONSUMER, (msg) => {
      // The admission checks, in memory (validation, policy and routing
      // have nothing to check here: one topic, no payload).
      const id = text.decode(msg.data);
      const recorded = finals.get(id);
      if (recorded) {
        // Final already (as in the index a successor rebuilds from the
        // ledger): a redelivery whose worker's ack was lost, or a duplicate
        // id past the submit stream's dedupe window: answered, not run.
        recorded.then(() => {
          nc.publish(resultSubject(shape), msg.data);
          msg.ack();
        });
        return;
      }
      // The message's ack subject, `$JS.ACK.…` (nats.js's type leaves the
      // reply out; its message has it).
      const ackSubject = (msg as JsMsg & { reply: string }).reply;
      nc.publish(runSubject(shape), encoder.encode(`${id} ${ackSubject}`));
    });
  }
  nc.subscribe(reportSubject(shape), {
    queue: "sched",
    callback: (_error, msg) => {
      if (shape === "H") {
        const id = text.decode(msg.data);
        const recorded = finals.get(id);
        // A job run again (its submission redelivered while its first run
        // was still going): answered, not recorded twice.
        if (recorded) return void recorded.then(() => msg.respond());
        finals.set(id, turn.promise);
      }
      reports.push(msg);
      later();
    },
  });
}

/**
 * nats.js writes its buffer in a microtask; this writes it once per turn
 * (a compact copy of CortexOS's coalesceWrites, which the bench must not
 * import).
 */
function coalesceWrites(nc: NatsConnection): void {
  const h = (nc as unknown as { protocol: Handler }).protocol;
  const encoder = new TextEncoder();
  let scheduled = false;
  h.sendCommand = (cmd, ...payloads) => {
    h.outbound.fill(
      typeof cmd === "string" ? encoder.encode(cmd) : cmd,
      ...payloads,
    );
    if (h.outbound.size() >= h.pendingLimit) h.flushPending();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        h.flushPending();
      });
    }
  };
}
interface Handler {
  outbound: {
    size(): number;
    fill(data: Uint8Array, ...payloads: (Uint8Array | undefined)[]): unknown;
  };
  pendingLimit: number;
  flushPending(): void;
  sendCommand(
    cmd: string | Uint8Array,
    ...payloads: (Uint8Array | undefined)[]
  ): void;
}

const life = setTimeout(() => Deno.exit(3), MAX_LIFE_MS);
for await (const _ of Deno.stdin.readable) { /* until EOF */ }
clearTimeout(life);
replies.close();
await nc.flush();
await nc.drain();
