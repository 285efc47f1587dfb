/**
 * The durable ledger's pure parts: the entry's changes (fenced by job and
 * attempt), its codec, and how a replica applies entries to its job table
 * and counters.
 */
import { create } from "@bufbuild/protobuf";
import {
  HeartbeatSchema,
  JobRequestSchema,
  JobResultSchema,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import {
  decodeEntry,
  encodeEntry,
  type LedgerEntry,
  recordOf,
  resultOf,
} from "../../src/scheduler/ledger.ts";
import {
  admittedEntry,
  duplicateSubmission,
  recordAttempt,
  recordCoreResult,
  refusedEntry,
  timeOut,
} from "../../src/scheduler/ledger_changes.ts";
import {
  type DurableCounters,
  LedgerView,
} from "../../src/scheduler/ledger_view.ts";
import { JobTable } from "../../src/scheduler/job_table.ts";
import { WorkerRegistry } from "../../src/scheduler/registry.ts";
import {
  type SchedulerCounters,
  zeroCounters,
} from "../../src/scheduler/service.ts";
import { assertEquals, assertOk } from "../assert.ts";

const job = create(JobRequestSchema, {
  jobId: "j1",
  topic: "job.echo",
  priority: 2,
  payload: new TextEncoder().encode("hello"),
});

function admitted(
  maxAttempts = 3,
  now = 1_000,
  subject = "cortex.work.job.echo",
): LedgerEntry {
  return admittedEntry(job, {
    traceId: "t1",
    submitter: "cli",
    submitSeq: 7,
    createdAt: now - 1,
    now,
    subject,
    maxAttempts,
    deadline: now + 60_000,
  });
}

function report(attempt: number, failed: boolean) {
  return create(JobResultSchema, {
    jobId: "j1",
    status: failed ? JobStatus.FAILED : JobStatus.COMPLETED,
    workerId: `w${attempt}`,
    executionMs: 4n,
    output: new TextEncoder().encode("out"),
    error: failed ? `boom ${attempt}` : "",
    attempts: attempt,
  });
}

Deno.test("ledger: an entry survives its codec; other bytes are not an entry", () => {
  const entry = admitted();
  assertEquals(decodeEntry(encodeEntry(entry)), entry);
  assertEquals(decodeEntry(new TextEncoder().encode("{}")), undefined);
  assertEquals(decodeEntry(new TextEncoder().encode("not json")), undefined);
});

Deno.test("ledger: a failed attempt with attempts left is recorded, not final", () => {
  const after = recordAttempt(admitted(), report(1, true), 2_000)!;
  assertEquals(after.state, "DISPATCHED");
  assertEquals(after.change, "attempt");
  assertEquals(after.attempts.map((a) => [a.attempt, a.error]), [[
    1,
    "boom 1",
  ]]);
});

Deno.test("ledger: an attempt already recorded, or any after the job is final, is fenced", () => {
  const once = recordAttempt(admitted(), report(1, true), 2_000)!;
  assertEquals(recordAttempt(once, report(1, true), 2_100), undefined);
  const done = recordAttempt(once, report(2, false), 3_000)!;
  assertEquals(done.state, "COMPLETED");
  assertEquals(done.workerId, "w2");
  assertEquals(recordAttempt(done, report(3, false), 3_100), undefined);
  assertEquals(recordCoreResult(done, report(9, false), 3_100), undefined);
  assertEquals(timeOut(done, 1e12, 60_000), undefined);
});

Deno.test("ledger: the last allowed attempt failing ends FAILED and dead-lettered; the result says 3 attempts", () => {
  let entry = admitted(3);
  for (let n = 1; n <= 3; n++) {
    entry = recordAttempt(entry, report(n, true), n)!;
  }
  assertEquals(entry.state, "FAILED");
  assertOk(entry.deadLettered);
  assertEquals(entry.error, "boom 3");
  const result = resultOf(entry);
  assertEquals(result.status, JobStatus.FAILED);
  assertEquals(result.attempts, 3);
  assertEquals(new TextDecoder().decode(result.output), "out");
});

Deno.test("ledger: a core worker's result ends a job dispatched on core; the deadline times it out otherwise", () => {
  const done = recordCoreResult(
    admitted(3, 1_000, "job.echo"),
    report(0, false),
    5,
  )!;
  assertEquals(done.state, "COMPLETED");
  assertEquals(done.attempts.length, 1);
  // A core result cannot end a job dispatched to the durable work stream:
  // only its attempt reports, fenced by attempt, can.
  assertEquals(recordCoreResult(admitted(), report(0, false), 5), undefined);
  assertEquals(timeOut(admitted(3, 0), 59_999, 60_000), undefined);
  const late = timeOut(admitted(3, 0), 60_000, 60_000)!;
  assertEquals(late.state, "TIMEOUT");
  assertEquals(late.error, "no result within 60000 ms");
});

Deno.test("ledger: a refused job is final at once, with no subject", () => {
  const entry = refusedEntry(
    job,
    {
      traceId: "t",
      submitter: "cli",
      submitSeq: 1,
      now: 5,
      subject: "job.echo",
      maxAttempts: 3,
      deadline: 10,
    },
    "DENIED",
    "no",
  );
  assertEquals([entry.state, entry.subject, entry.finishedAt], [
    "DENIED",
    "",
    5,
  ]);
  assertEquals(entry.dispatchedAt, undefined);
});

Deno.test("ledger: the table's record shows the request, attempts and outcome", () => {
  const entry = recordAttempt(admitted(1), report(1, true), 9)!;
  const record = recordOf(entry);
  assertEquals(record.priority, "INTERACTIVE");
  assertEquals(record.payloadPreview, "hello");
  assertEquals(record.outputPreview, "out");
  assertEquals(record.maxAttempts, 1);
  assertOk(record.deadLettered);
  assertEquals(record.attempts.length, 1);
});

function view(capacity = 10) {
  const jobs = new JobTable({ capacity, timeoutMs: 60_000 });
  const counters: SchedulerCounters = zeroCounters();
  const durable: DurableCounters = {
    retries: 0,
    deadLettered: 0,
    duplicateDeliveries: 0,
  };
  const seen: string[] = [];
  const ledger = new LedgerView(
    jobs,
    counters,
    durable,
    new Set([{
      jobChanged: (r) => seen.push(`${r.jobId}:${r.state}`),
    }]),
  );
  return { jobs, counters, durable, ledger, seen };
}

Deno.test("ledger view: each write counts once, whether seen from the start or live", () => {
  const created = admitted();
  const retried = recordAttempt(created, report(1, true), 2)!;
  const done = recordAttempt(retried, report(2, false), 3)!;
  const dup = duplicateSubmission(done);
  const live = view();
  for (const e of [created, retried, done, dup]) {
    live.ledger.apply(e, { initial: false });
  }
  const restarted = view();
  restarted.ledger.apply(dup, { initial: true });
  for (const { counters, durable, jobs } of [live, restarted]) {
    assertEquals(
      [counters.submitted, counters.dispatched, counters.completed],
      [1, 1, 1],
    );
    assertEquals([counters.duplicates, durable.retries], [1, 1]);
    assertEquals(jobs.get("j1")?.state, "COMPLETED");
    assertEquals(jobs.inflight, 0);
  }
  assertEquals(live.seen, [
    "j1:DISPATCHED",
    "j1:DISPATCHED",
    "j1:COMPLETED",
    "j1:COMPLETED",
  ]);
});

Deno.test("ledger view: the table stays bounded; an evicted job's later change still counts once", () => {
  const { jobs, counters, ledger } = view(2);
  const entries = ["a", "b", "c"].map((id) => {
    const e = { ...admitted(), jobId: id };
    ledger.apply(e, { initial: false });
    const done = recordAttempt(e, { ...report(1, false), jobId: id }, 5)!;
    ledger.apply(done, { initial: false });
    return done;
  });
  assertEquals(jobs.size, 2);
  assertEquals(jobs.get("a"), undefined); // evicted, oldest finished
  ledger.apply(duplicateSubmission(entries[0]), { initial: false });
  assertEquals([counters.submitted, counters.completed], [3, 3]);
  assertEquals(counters.duplicates, 1);
  assertOk(jobs.size <= 2);
});

Deno.test("ledger view: a job whose earlier writes the watch skipped counts whole, once; an evicted or unheld one's change only", () => {
  // The bucket keeps one revision a key: a busy replica's watch may see a
  // job first at its final write, its creation replaced before it got there.
  const { jobs, counters, ledger } = view(2);
  const done = (id: string, seq: number) => {
    const e = { ...admitted(), jobId: id, submitSeq: seq };
    return recordAttempt(e, { ...report(1, false), jobId: id }, 5)!;
  };
  const a = done("a", 1), b = done("b", 2), c = done("c", 3);
  for (const e of [a, b]) ledger.apply(e, { initial: false });
  assertEquals(
    [counters.submitted, counters.dispatched, counters.completed],
    [2, 2, 2],
  );
  // c evicts a; a's later duplicate counts as a duplicate only.
  ledger.apply(c, { initial: false });
  assertEquals(jobs.get("a"), undefined);
  ledger.apply(duplicateSubmission(a), { initial: false });
  assertEquals(
    [counters.submitted, counters.completed, counters.duplicates],
    [3, 3, 1],
  );
  // A job admitted before the latest evicted one, not held, first seen at
  // its final write: counted from it alone (it may have been held before).
  ledger.apply(done("old", 1), { initial: false });
  assertEquals([counters.submitted, counters.completed], [3, 4]);

  // A table full of jobs in flight: the job not held is counted when
  // created, and its final write then adds its outcome only.
  const full = view(1);
  full.ledger.apply({ ...admitted(), jobId: "x", submitSeq: 10 }, {
    initial: false,
  });
  full.ledger.apply({ ...admitted(), jobId: "y", submitSeq: 11 }, {
    initial: false,
  });
  assertEquals(full.jobs.get("y"), undefined);
  full.ledger.apply(done("y", 11), { initial: false });
  assertEquals(
    [full.counters.submitted, full.counters.dispatched],
    [2, 2],
  );
  assertEquals(full.counters.completed, 1);
});

Deno.test("job table: overdue in-flight jobs are listed, not changed", () => {
  let now = 0;
  const jobs = new JobTable({ capacity: 5, timeoutMs: 100, clock: () => now });
  jobs.upsert(recordOf(admitted(3, 0)));
  assertEquals(jobs.overdue().length, 0);
  now = 100;
  const [record] = jobs.overdue();
  assertEquals([record.jobId, record.state], ["j1", "DISPATCHED"]);
});

Deno.test("registry: online workers of a pool, durable and core, without a scan of the rest", () => {
  let now = 0;
  const registry = new WorkerRegistry({ heartbeatMs: 1_000, clock: () => now });
  const beat = (workerId: string, pool: string, durable: boolean) =>
    registry.observe(create(HeartbeatSchema, { workerId, pool, durable }));
  beat("d1", "echo", true);
  beat("c1", "echo", false);
  beat("c2", "other", false);
  assertEquals(registry.onlineInPool("echo"), { durable: 1, core: 1 });
  assertEquals(registry.onlineInPool("nobody"), { durable: 0, core: 0 });
  now = 10_000; // both silent long enough to be offline
  beat("c1", "echo", false);
  assertEquals(registry.onlineInPool("echo"), { durable: 0, core: 1 });
  beat("c1", "moved", false);
  assertEquals(registry.onlineInPool("echo"), { durable: 0, core: 0 });
});
