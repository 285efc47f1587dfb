/**
 * Chain shapes for durable jobs, measured beside the JetStream floor in one
 * run: the evidence for issue 9's choice of design, not a product change.
 * Every shape is raw (a job is its id in ASCII, no CortexOS code), each role
 * its own `deno run` process allowed only the server's port, on one
 * nats-server with JetStream; the same client drives every shape (stored
 * submissions with message id = job id, PubAck awaited, answer on core NATS).
 *
 * - **F**, the floor (`hop.ts pull`, as `deno task bench`): the client stores
 *   the job in a work-queue stream; a worker pulls it, answers, acks.
 *   1 stored write, 4 hand-overs between processes on the result path.
 * - **S5**, today's shape: the scheduler pulls the submission, creates the
 *   job's KV-like ledger entry (expected last subject sequence 0), stores
 *   the dispatch in the work stream, acks; the worker pulls it, stores its
 *   report in an attempts stream, acks; the scheduler pulls the report,
 *   compare-and-sets the entry (expected last subject sequence = its
 *   revision), publishes the result, acks. The scheduler watches its ledger.
 *   5 stored writes, 12 hand-overs. Keeps every guarantee of durability.md.
 * - **S4**: S5 with the report sent to the scheduler as a core request; the
 *   worker acks the work message only after the scheduler answered (after its
 *   compare-and-set was stored). 4 writes, 12 hand-overs. Keeps at least
 *   once and exactly one final record; gives up reports kept while no
 *   scheduler is up: the worker's work message is redelivered (the job run
 *   again) when no answer comes within its ack wait.
 * - **R**: the workers record their attempts in the ledger themselves (the
 *   first proposal of docs/performance.md's "What would raise durable
 *   throughput"): the dispatch carries the revision the create returned, the
 *   worker compare-and-sets on it, publishes the result, acks. 4 writes, 10
 *   hand-overs. Keeps the KV ledger and admission; gives up the scheduler's
 *   sole write access to the ledger (workers need write permission on it)
 *   and "published once" by the scheduler (a worker dying between its
 *   compare-and-set and the result leaves the redelivery to publish).
 * - **G**, group commit: as S4, but the ledger is one subject of a stream,
 *   written once per turn of the scheduler's event loop with every record
 *   of that turn (admissions and finals), fenced by the stream's expected
 *   last sequence (one writer; a second one fails its fence). 2 + 2/batch
 *   writes, 12 hand-overs. Keeps the record before dispatch and before the
 *   result, and the single writer; gives up per-job KV entries: a job's
 *   state is a replay of the log (an index in each replica's memory), a
 *   duplicate id past the submit stream's dedupe window needs that index,
 *   and the fence makes several active schedulers take turns.
 * - **W**: workers pull submissions straight from their topic's subject
 *   (`submit.<topic>`, the stream captures `submit.>`); the scheduler only
 *   records finals (group commit) and publishes results; reports as in S4.
 *   1 + 1/batch writes, 8 hand-overs. Gives up admission before running
 *   (validation, the safety policy, routing, priorities, a duplicate id
 *   refused by the ledger), the queued state in the ledger, and the single
 *   submit subject `sys.job.submit` (nats-server 2.9 has no subject
 *   transforms to map it).
 * - **H**: the scheduler admits, the worker acks the submission. The
 *   scheduler pulls the submission (explicit ack), checks it against the
 *   ledger's index in its memory (a job already final is answered, not
 *   run) and forwards `<job id> <ack subject of the submission>` on core
 *   NATS to the topic's queue group of workers, without acking and without
 *   a stored write; the worker reports as in S4, the scheduler records
 *   finals by group commit as W (a second report of a job is answered
 *   without a second record), publishes the result, answers, and only then
 *   does the worker ack the submission on that subject. The submit
 *   consumer's max_ack_pending (the workers' slots) bounds the jobs
 *   forwarded and not yet acked. 1 + 1/batch writes, 10 hand-overs. Keeps
 *   admission before the job runs (validation, policy, routing, a duplicate
 *   id past the dedupe window refused by the index), `sys.job.submit`, the
 *   single ledger writer, at least once and one final record per job.
 *   Gives up the queued and running states in the ledger (an admitted job
 *   is an unacked submission until its final) and the stored dispatch: a
 *   forward lost (no worker subscribed, a worker or the scheduler dying
 *   after forwarding, an unanswered report) is noticed only when the
 *   submission's ack wait ends, then redelivered and run again, and that
 *   wait bounds a job's run too (a longer job is run again unless its
 *   worker sends progress, `+WPI`, on the ack subject); a scheduler dying
 *   between the record and the result leaves the result to the
 *   redelivery, an ack wait late. Per-worker slots and priorities need the
 *   scheduler to address one worker (a queue group takes any); the workers
 *   need permission to ack the scheduler's consumer, and a successor
 *   scheduler must rebuild the index from the ledger before it pulls.
 *
 * Every chain process writes its socket once per turn (as CortexOS's durable
 * processes); the chains' consumers wait 30 s for an ack (the floor's 5 s).
 *
 *   deno task bench:chains [--jobs N] [--inflight N] [--serial N] [--rounds N] [--only F,S5,S4,R,G,W,H]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { ROOT } from "../permissions.ts";
import { Child } from "../support/child.ts";
import { type NatsServer, startNatsServer } from "../support/nats_server.ts";
import {
  makeStreams,
  resultSubject,
  type Shape,
  SHAPES,
  streamsOf,
  submitStream,
  submitSubject,
  WORKER_CONSUMER,
} from "./chain_layout.ts";
import { Replies } from "./chain_replies.ts";
import { cpuSeconds } from "./proc.ts";
import { chainTable, type Measured } from "./chain_table.ts";

const WORKERS = 2;
const log = (line: string) => console.error(`chains: ${line}`);

const { values: opts } = parseArgs({
  args: Deno.args,
  options: {
    jobs: { type: "string", default: "20000" },
    inflight: { type: "string", default: "100" },
    serial: { type: "string", default: "2000" },
    rounds: { type: "string", default: "3" },
    only: { type: "string", default: SHAPES.join(",") },
    help: { type: "boolean", default: false },
  },
});
if (opts.help) {
  console.log(
    "usage: chain_shapes.ts [--jobs 20000] [--inflight 100] [--serial 2000] [--rounds 3] [--only F,S5,S4,R,G,W,H]",
  );
  Deno.exit(0);
}
const JOBS = Number(opts.jobs);
const INFLIGHT = Number(opts.inflight);
const SERIAL = Number(opts.serial);
const ROUNDS = Number(opts.rounds);
const shapes = opts.only.split(",") as Shape[];
if (
  ![JOBS, INFLIGHT, SERIAL, ROUNDS].every((n) => Number.isInteger(n) && n > 0)
) {
  console.error("--jobs, --inflight, --serial and --rounds take whole numbers");
  Deno.exit(2);
}
if (!shapes.includes("F") || shapes.some((s) => !SHAPES.includes(s))) {
  console.error(`--only: shapes among ${SHAPES.join(",")}, F included`);
  Deno.exit(2);
}

/** Starts the processes of `shape`: [scheduler,] worker 1, worker 2. */
function startRoles(shape: Shape, nats: NatsServer): Child[] {
  const role = (name: string, file: string, args: string[]) =>
    new Child(`${shape} ${name}`, "deno", [
      "run",
      "--no-prompt",
      `--allow-net=127.0.0.1:${nats.port}`,
      `${ROOT}/scripts/bench/${file}`,
      nats.url,
      ...args,
    ], { stdin: true, keepLines: 200 });
  const workers = Array.from(
    { length: WORKERS },
    (_, i) =>
      shape === "F"
        ? role(`worker${i + 1}`, "hop.ts", [
          "pull",
          submitStream(shape),
          WORKER_CONSUMER,
          resultSubject(shape),
        ])
        : role(`worker${i + 1}`, "chain_roles.ts", [shape, "worker"]),
  );
  if (shape === "F") return workers;
  return [
    role("scheduler", "chain_roles.ts", [shape, "scheduler"]),
    ...workers,
  ];
}

/** One run's raw figures. */
interface Run {
  completed: number;
  seconds: number;
  rtts: number[];
}

let runs = 0;
/**
 * Keeps `inflight` jobs of `shape` outstanding until `count` came back (or
 * the deadline passed): the same closed loop as `deno task bench`.
 */
async function drive(
  nc: NatsConnection,
  replies: Replies,
  shape: Shape,
  count: number,
  inflight: number,
): Promise<Run> {
  const tag = `j${Date.now().toString(36)}${(runs++).toString(36)}-`;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const sentAt = new Float64Array(count);
  const got = new Uint8Array(count);
  const rtts: number[] = [];
  let next = 0;
  let ended = 0;
  let lastAt = 0;
  const { promise: finished, resolve: finish } = Promise.withResolvers<
    void
  >();
  const end = () => {
    if (++ended === count) finish();
    else if (next < count) send();
  };
  const send = () => {
    const i = next++;
    const id = tag + String(i).padStart(7, "0");
    sentAt[i] = performance.now();
    replies.store(submitSubject(shape), encoder.encode(id), { msgID: id })
      .catch((error) => {
        // Never stored: it counts as missing, its slot goes on.
        log(`${shape}: job ${i} not stored: ${error}`);
        if (got[i] !== 0) return;
        got[i] = 2;
        end();
      });
  };
  const sub = nc.subscribe(resultSubject(shape), {
    callback: (_error, msg) => {
      const now = performance.now();
      const id = decoder.decode(msg.data);
      if (!id.startsWith(tag)) return;
      const i = Number(id.slice(tag.length));
      if (!(i >= 0 && i < count) || got[i] !== 0) return;
      got[i] = 1;
      rtts.push(now - sentAt[i]);
      lastAt = now;
      end();
    },
  });
  await nc.flush();
  const started = performance.now();
  const deadline = setTimeout(finish, 30_000 + count * 3);
  for (let k = 0; k < Math.min(inflight, count); k++) send();
  await finished;
  clearTimeout(deadline);
  sub.unsubscribe();
  return {
    completed: rtts.length,
    seconds: ((lastAt || started) - started) / 1000,
    rtts,
  };
}

/** The last sequence of each of `streams` (their stored messages so far). */
async function lastSeqs(
  jsm: JetStreamManager,
  streams: string[],
): Promise<number> {
  let sum = 0;
  for (const s of streams) sum += (await jsm.streams.info(s)).state.last_seq;
  return sum;
}

await using nats = await startNatsServer();
const nc = await connect({
  servers: nats.url,
  name: "chain-client",
  noAsyncTraces: true,
});
const jsm = await jetstreamManager(nc);
const replies = new Replies(nc);
const roles = new Map<Shape, Child[]>();
try {
  for (const shape of shapes) {
    await makeStreams(jsm, shape);
    const children = startRoles(shape, nats);
    roles.set(shape, children);
    await Promise.all(children.map((c) => c.waitFor(/^ready$/)));
  }
  log(`${shapes.join(", ")} ready on ${nats.url}; warming up`);
  for (const shape of shapes) {
    await drive(nc, replies, shape, Math.min(JOBS, 2_000), INFLIGHT);
    await drive(nc, replies, shape, Math.min(SERIAL, 100), 1);
  }
  const measured = new Map<Shape, Measured>(
    shapes.map((s) => [s, {
      completed: 0,
      jobs: 0,
      seconds: 0,
      rtts: [],
      serial: [],
      cpu: {},
      stored: 0,
    }]),
  );
  for (let round = 1; round <= ROUNDS; round++) {
    for (const shape of shapes) {
      const m = measured.get(shape)!;
      const children = roles.get(shape)!;
      const names = ["client", "nats-server", ...children.map((c) => c.name)];
      const pids = ["self" as const, nats.pid, ...children.map((c) => c.pid)];
      const streams = streamsOf(shape);
      const seqBefore = await lastSeqs(jsm, streams);
      const cpuBefore = await cpuSeconds(pids);
      const r = await drive(nc, replies, shape, JOBS, INFLIGHT);
      const cpuAfter = await cpuSeconds(pids);
      m.stored += (await lastSeqs(jsm, streams)) - seqBefore;
      names.forEach((name, i) => {
        const role = name.replace(`${shape} `, "");
        m.cpu[role] = (m.cpu[role] ?? 0) + cpuAfter[i] - cpuBefore[i];
      });
      m.jobs += JOBS;
      m.completed += r.completed;
      m.seconds += r.seconds;
      m.rtts.push(...r.rtts);
      log(
        `round ${round} ${shape}: ${
          Math.round(r.completed / r.seconds)
        } jobs/s` +
          (r.completed < JOBS ? `, ${JOBS - r.completed} MISSING` : ""),
      );
    }
    for (const shape of shapes) {
      const r = await drive(nc, replies, shape, SERIAL, 1);
      measured.get(shape)!.serial.push(...r.rtts);
      if (r.completed < SERIAL) {
        log(
          `round ${round} ${shape} one at a time: ${
            SERIAL - r.completed
          } MISSING`,
        );
      }
    }
  }
  console.log(
    `${JOBS} jobs, ${INFLIGHT} in flight, ${WORKERS} workers; ${SERIAL} one at a time; ${ROUNDS} interleaved rounds\n`,
  );
  console.log(chainTable(shapes, measured));
} finally {
  for (const children of roles.values()) {
    await Promise.all(children.map((c) => c.stop()));
  }
  for (const children of roles.values()) {
    for (const c of children) {
      const errors = c.lines.filter((l) => /error|Error/.test(l));
      if (errors.length) log(`${c.name}: ${errors.slice(0, 3).join(" | ")}`);
    }
  }
  replies.close();
  await nc.close();
}
