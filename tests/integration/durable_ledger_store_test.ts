/**
 * The ledger store over a real nats-server: a change of an entry this
 * replica wrote last skips the read, but never applies to a stale entry
 * when another replica wrote since.
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

/** A change marking the entry with `mark`, and what it saw. */
function marking(mark: number, seen: LedgerEntry[]) {
  return (entry: LedgerEntry): LedgerEntry | undefined => {
    seen.push(entry);
    // Fenced unless another replica counted a duplicate first.
    if (entry.duplicates === 0) return undefined;
    return { ...entry, priority: mark };
  };
}

Deno.test({
  name: "ledger store: changes apply to the entry as it is, across replicas",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using nats = await startNatsServer();
    const nc = await connect({ servers: nats.url, noAsyncTraces: true });
    try {
      const settings = { historyMs: 60_000, replicas: 1 };
      const a = await LedgerStore.open(jetstream(nc), settings);
      const b = await LedgerStore.open(jetstream(nc), settings);

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
    } finally {
      await nc.close();
    }
  },
});
