/**
 * Ledger reads on a three-node loopback cluster: a write acknowledged on
 * one node is seen by a read on any other, under load. The bucket is made
 * with direct gets allowed (as every version made it), whose reads any
 * replica answers from its own store, sometimes before it has applied the
 * latest write; the ledger store reads from the stream leader instead.
 * Before it did, its reads were direct gets and this test failed: a
 * replica fenced a change on an entry older than the one acknowledged.
 */
import { create } from "@bufbuild/protobuf";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { JobRequestSchema } from "../../src/gen/cortex/v1/cortex_pb.ts";
import { LEDGER_BUCKET, ledgerKey } from "../../src/bus/durable/layout.ts";
import { decodeEntry, type LedgerEntry } from "../../src/scheduler/ledger.ts";
import {
  admittedEntry,
  duplicateSubmission,
} from "../../src/scheduler/ledger_changes.ts";
import { LedgerStore } from "../../src/scheduler/ledger_store.ts";
import { startNatsCluster } from "../../scripts/support/nats_server.ts";
import { assertEquals, assertOk } from "../assert.ts";

/** Jobs written at once, and writes of each: enough for a late replica to show. */
const LANES = 100;
const ROUNDS = 20;

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

/** Opens the ledger over `nc` (the cluster places a stream of 3 replicas). */
function openLedger(nc: NatsConnection): Promise<LedgerStore> {
  return LedgerStore.open(jetstream(nc), { historyMs: 60_000, replicas: 3 });
}

Deno.test({
  name:
    "cluster ledger: a write acknowledged on one node is read on every other, under load",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using cluster = await startNatsCluster({ size: 3 });
    const ncs = await Promise.all(
      cluster.nodes.map((node) =>
        connect({ servers: node.url, noAsyncTraces: true })
      ),
    );
    try {
      // One store per node, as scheduler replicas connected to each.
      const stores: LedgerStore[] = [];
      for (const nc of ncs) stores.push(await openLedger(nc));
      const info = await stores[0].kv.status();
      assertEquals(info.streamInfo.config.allow_direct, true, "made as before");
      // The same bucket with direct gets, for the comparison logged below.
      const direct = await Promise.all(
        ncs.map((nc) => new Kvm(nc).create(LEDGER_BUCKET)),
      );

      let reads = 0;
      let directReads = 0;
      let directStale = 0;
      const stale: string[] = [];
      await Promise.all(
        Array.from({ length: LANES }, async (_, lane) => {
          const id = `lane-${lane}`;
          assertOk(await stores[lane % 3].create(admitted(id)), id);
          for (let round = 1; round <= ROUNDS; round++) {
            const writer = (lane + round) % 3;
            const wrote = await stores[writer].change(
              id,
              duplicateSubmission,
            );
            const duplicates = wrote?.entry.duplicates ?? -1;
            await Promise.all(
              [1, 2].map(async (step) => {
                const reader = (writer + step) % 3;
                // Both reads at once, so neither gives the other time.
                const [got, near] = await Promise.all([
                  stores[reader].get(id),
                  direct[reader].get(ledgerKey(id)),
                ]);
                reads++;
                if ((got?.entry.duplicates ?? -1) < duplicates) {
                  stale.push(
                    `${id}: node ${
                      reader + 1
                    } read ${got?.entry.duplicates} after node ${
                      writer + 1
                    } wrote ${duplicates}`,
                  );
                }
                const entry = near?.value && decodeEntry(near.value);
                directReads++;
                if (!entry || entry.duplicates < duplicates) directStale++;
              }),
            );
          }
        }),
      );
      console.log(
        `leader reads behind the write: ${stale.length} of ${reads}; direct gets: ${directStale} of ${directReads}`,
      );
      assertEquals(stale, [], "every read saw the write before it");
      assertEquals(reads, LANES * ROUNDS * 2);
    } finally {
      await Promise.all(ncs.map((nc) => nc.close()));
    }
  },
});
