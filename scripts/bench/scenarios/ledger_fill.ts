/**
 * Writes jobs straight into the ledger of a fresh JetStream server, for the
 * operator scenarios (o1 search, o2 bulk retry): a big history without
 * running every job through CortexOS first.
 *
 * @module
 */
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsServer } from "../../support/nats_server.ts";
import { LedgerStore } from "../../../src/scheduler/ledger_store.ts";
import type { LedgerEntry } from "../../../src/scheduler/ledger.ts";

/** Ledger writes in flight at once while filling. */
const BATCH = 1000;

/**
 * Creates `count` ledger entries (`entry(i)` for i = 0…count−1) on `nats`,
 * {@linkcode BATCH} at a time, and returns the seconds it took.
 */
export async function fillLedger(
  nats: Pick<NatsServer, "url">,
  count: number,
  entry: (i: number) => LedgerEntry,
): Promise<number> {
  const nc = await connect({ servers: nats.url, name: "bench-ledger-fill" });
  try {
    const ledger = await LedgerStore.open(jetstream(nc), {
      historyMs: 86_400_000,
      replicas: 1,
    });
    const start = performance.now();
    for (let i = 0; i < count; i += BATCH) {
      await Promise.all(
        Array.from(
          { length: Math.min(BATCH, count - i) },
          (_, k) => ledger.create(entry(i + k)),
        ),
      );
    }
    return Math.round((performance.now() - start) / 100) / 10;
  } finally {
    await nc.drain();
  }
}

/** The `q` quantile of ascending `sorted` (nearest rank, from below). */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** `ms` rounded to 0.1 ms, as the document keeps times. */
export const tenth = (ms: number) => Math.round(ms * 10) / 10;
