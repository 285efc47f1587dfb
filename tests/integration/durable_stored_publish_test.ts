/**
 * The durable hot path's writes over a real nats-server: the stored
 * publisher answers as nats.js's `js.publish` does (stored, a repeat of a
 * message id, a refused compare-and-set with the server's code, no stream,
 * no answer in time), and a connection whose writes are coalesced still
 * delivers everything, in order, including what was queued just before
 * it closed.
 */
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import {
  StoredPublisher,
  StoredPublishTimeout,
} from "../../src/bus/durable/stored_publish.ts";
import { coalesceWrites } from "../../src/bus/durable/coalesced_writes.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { assertEquals, assertOk } from "../assert.ts";

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

Deno.test({
  name:
    "stored publisher: stored, repeats, compare-and-set refusals, no stream, no answer",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using nats = await startNatsServer();
    const nc = await connect({ servers: nats.url, noAsyncTraces: true });
    const stored = new StoredPublisher(nc, { timeoutMs: 300 });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "T", subjects: ["t.>"] });

      const first = await stored.publish("t.a", new Uint8Array([1]), {
        msgID: "m1",
        expectStream: "T",
      });
      assertEquals(first, { stream: "T", seq: 1, duplicate: false });
      const again = await stored.publish("t.a", new Uint8Array([1]), {
        msgID: "m1",
      });
      assertEquals(
        again.duplicate,
        true,
        "a repeated message id is not stored",
      );

      // Compare-and-set on the subject, as the ledger writes its entries.
      const created = await stored.publish("t.k", new Uint8Array([2]), {
        expectLastSubjectSequence: 0,
      });
      const lost = await rejection(
        stored.publish("t.k", new Uint8Array([3]), {
          expectLastSubjectSequence: 0,
        }),
      );
      assertOk(lost instanceof JetStreamApiError, String(lost));
      assertEquals(
        (lost as JetStreamApiError).code,
        JetStreamApiCodes.StreamWrongLastSequence,
      );
      const updated = await stored.publish("t.k", new Uint8Array([4]), {
        expectLastSubjectSequence: created.seq,
      });
      assertOk(updated.seq > created.seq);

      const wrongStream = await rejection(
        stored.publish("t.a", new Uint8Array([5]), { expectStream: "OTHER" }),
      );
      assertOk(wrongStream instanceof JetStreamApiError, String(wrongStream));

      const none = await rejection(stored.publish("u.x", new Uint8Array()));
      assertOk(/no responders/.test(String(none)), String(none));

      // Someone answers nothing: given up on after the timeout.
      nc.subscribe("v.x", { callback: () => {} });
      const silent = await rejection(stored.publish("v.x", new Uint8Array()));
      assertOk(silent instanceof StoredPublishTimeout, String(silent));
      assertEquals(stored.pending, 0);
    } finally {
      stored.close();
      await nc.close();
    }
  },
});

Deno.test({
  name:
    "coalesced writes: every message arrives in order, and what is queued leaves before close",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using nats = await startNatsServer();
    const listener = await connect({ servers: nats.url });
    const sender = await connect({ servers: nats.url });
    try {
      assertOk(coalesceWrites(sender), "nats.js's handler is as expected");
      assertOk(coalesceWrites(sender), "a second call changes nothing");
      const got: number[] = [];
      const all = Promise.withResolvers<void>();
      listener.subscribe("c.x", {
        callback: (_e, m) => {
          got.push(m.data[0]);
          if (got.length === 250) all.resolve();
        },
      });
      await listener.flush();
      for (let i = 0; i < 200; i++) sender.publish("c.x", new Uint8Array([i]));
      await sender.flush();
      // Queued in the same turn as the close: written before it closes.
      for (let i = 200; i < 250; i++) {
        sender.publish("c.x", new Uint8Array([i]));
      }
      await sender.close();
      await Promise.race([
        all.promise,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`got ${got.length}`)), 5_000)
        ),
      ]);
      assertEquals(got, Array.from({ length: 250 }, (_, i) => i));
    } finally {
      await listener.close();
      if (!sender.isClosed()) await sender.close();
    }
  },
});
