/**
 * The ledger store over a real nats-server: a change of an entry this
 * replica wrote last skips the read, but never applies to a stale entry
 * when another replica wrote since; the same through nats.js's KV writes
 * and through the scheduler's {@linkcode StoredPublisher}, which also
 * admits over a delete marker as nats.js's create does; the watch
 * delivers each key's writes in order and its last for sure, and a store
 * that only watched changes an entry without reading it first.
 */
import { create } from "@bufbuild/protobuf";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { JobRequestSchema } from "../../src/gen/cortex/v1/cortex_pb.ts";
import type { LedgerEntry } from "../../src/scheduler/ledger.ts";
import {
  admittedEntry,
  duplicateSubmission,
} from "../../src/scheduler/ledger_changes.ts";
import { LedgerStore } from "../../src/scheduler/ledger_store.ts";
import { StoredPublisher } from "../../src/bus/durable/stored_publish.ts";
import { ledgerKey } from "../../src/bus/durable/layout.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { assertEquals, assertOk } from "../assert.ts";

function admitted(jobId: string): LedgerEntry {
  const job = create(JobRequestSchema, { jobId, topic: "job.echo" });
  return admittedEntry(job, {
    traceId: "t1",
    submitter: "test",
    submitSeq: 1,
    now: 1_000,
    subject: "cortex.work.job.echo",
    maxAttempts: 3,
    deadline: 61_000,
  });
}

/** Whether `seen` is `all` with some items left out, in the same order. */
function isSubsequence(seen: number[], all: number[]): boolean {
  let at = 0;
  for (const x of seen) {
    while (at < all.length && all[at] !== x) at++;
    if (at === all.length) return false;
    at++;
  }
  return true;
}

/** A change marking the entry with `mark`, and what it saw. */
function marking(mark: number, seen: LedgerEntry[]) {
  return (entry: LedgerEntry): LedgerEntry | undefined => {
    seen.push(entry);
    // Fenced unless another replica counted a duplicate first.
    if (entry.duplicates === 0) return undefined;
    return { ...entry, priority: mark };
  };
}

for (const through of ["nats.js KV", "stored publisher"]) {
  Deno.test({
    name:
      `ledger store (${through}): changes apply to the entry as it is, across replicas`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => changes(through === "stored publisher"),
  });
}

async function changes(fast: boolean): Promise<void> {
  await using nats = await startNatsServer();
  const nc = await connect({ servers: nats.url, noAsyncTraces: true });
  const stored = fast ? new StoredPublisher(nc) : undefined;
  try {
    const settings = { historyMs: 60_000, replicas: 1 };
    const a = await LedgerStore.open(jetstream(nc), settings, stored);
    const b = await LedgerStore.open(jetstream(nc), settings, stored);
    // C only watches (another replica, or one restarted): it learns every
    // entry with its revision from the watch.
    const c = await LedgerStore.open(jetstream(nc), settings, stored);
    const watched: LedgerEntry[] = [];
    const stop = new AbortController();
    await c.watch((entry) => watched.push(entry), { signal: stop.signal });

    // The usual case: created then changed by one replica, no read between.
    assertOk(await a.create(admitted("one")));
    const first = await a.change("one", duplicateSubmission);
    assertEquals(first?.changed, true);
    assertEquals((await b.get("one"))?.entry.duplicates, 1);
    const again = await a.change("one", duplicateSubmission);
    assertEquals((await b.get("one"))?.entry.duplicates, 2);
    assertEquals(again?.entry.duplicates, 2);

    // Another replica wrote since A's create: A's change lands on B's write.
    assertOk(await a.create(admitted("two")));
    await b.change("two", duplicateSubmission);
    const seen: LedgerEntry[] = [];
    const changed = await a.change("two", marking(9, seen));
    assertEquals(changed?.changed, true);
    const held = (await b.get("two"))!.entry;
    assertEquals(held.duplicates, 1, "B's write is kept");
    assertEquals(held.priority, 9, "A's change is applied");
    // Fenced on A's own (stale) entry, then applied to the one held.
    assertEquals(seen.map((e) => e.duplicates), [0, 1]);

    // A stale entry that the change would write over is not written.
    assertOk(await a.create(admitted("three")));
    await b.change("three", duplicateSubmission);
    const over = await a.change("three", duplicateSubmission);
    assertEquals(over?.entry.duplicates, 2);
    assertEquals((await b.get("three"))?.entry.duplicates, 2);

    // Created once; a second create of the id is refused.
    assertOk(!(await b.create(admitted("one"))), "one is held already");
    // A deleted key is admitted again, as nats.js's create does.
    await a.kv.delete(ledgerKey("four"));
    assertOk(await a.create(admitted("four")), "created over a delete");
    assertOk(!(await b.create(admitted("four"))), "then held");

    // C's watch delivers each key's writes in order, and its last one
    // always. The bucket keeps one revision a key, so a write replaced
    // before the watch's consumer reached it is skipped, as a KV watch
    // does (seen under load, with writes this quick).
    const writes: Record<string, number[]> = {
      one: [0, 1, 2],
      two: [0, 1, 1],
      three: [0, 1, 2],
      four: [0],
    };
    const lastOf = (jobId: string) =>
      watched.findLast((e) => e.jobId === jobId);
    const allLast = () =>
      Object.entries(writes).every(([id, dups]) =>
        lastOf(id)?.duplicates === dups.at(-1)
      ) && lastOf("two")?.priority === 9;
    for (let i = 0; i < 100 && !allLast(); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    stop.abort();
    for (const [id, dups] of Object.entries(writes)) {
      const seen = watched.filter((e) => e.jobId === id).map((e) =>
        e.duplicates
      );
      assertOk(
        isSubsequence(seen, dups) && seen.at(-1) === dups.at(-1),
        `${id}: the watch delivered ${seen}, its writes were ${dups}`,
      );
    }
    assertEquals(lastOf("two")?.priority, 9, "A's change to B's write");

    // C changes a job it never wrote without reading it first: the watched
    // entry's revision is the one the compare-and-set expects.
    let reads = 0;
    const get = c.kv.get.bind(c.kv);
    c.kv.get = (...args) => (reads++, get(...args));
    const learned = await c.change("one", duplicateSubmission);
    assertEquals(learned?.entry.duplicates, 3);
    assertEquals(reads, 0, "no read before the compare-and-set");
    // A's remembered entry of "one" is stale now: its change reads.
    const afterC = await a.change("one", duplicateSubmission);
    assertEquals(afterC?.entry.duplicates, 4, "applied to C's write");
  } finally {
    stored?.close();
    await nc.close();
  }
}
