/**
 * Watches the Raft leaders of CortexOS's JetStream assets (its streams, the
 * ledger's bucket and their consumers) from the surviving nodes of a
 * cluster, so a test that kills a node can say how long JetStream itself
 * was without a leader, apart from how long CortexOS took beyond it.
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  ATTEMPT_CONSUMER,
  ATTEMPT_STREAM,
  LEDGER_BUCKET,
  SUBMIT_CONSUMER,
  SUBMIT_STREAM,
  WORK_STREAM,
  workConsumer,
} from "../src/bus/durable/layout.ts";

/** One stream (`consumer` unset) or consumer whose leader is watched. */
export interface Asset {
  stream: string;
  consumer?: string;
}

/** The assets a scheduler and the echo workers use. */
export const CORTEX_ASSETS: readonly Asset[] = [
  { stream: SUBMIT_STREAM },
  { stream: SUBMIT_STREAM, consumer: SUBMIT_CONSUMER },
  { stream: WORK_STREAM },
  { stream: WORK_STREAM, consumer: workConsumer("job.echo") },
  { stream: ATTEMPT_STREAM },
  { stream: ATTEMPT_STREAM, consumer: ATTEMPT_CONSUMER },
  { stream: `KV_${LEDGER_BUCKET}` },
];

/** A watch started by {@linkcode watchLeaders}. */
export interface LeaderWatch {
  /** Each asset's leader (a server name) when the watch started. */
  before: Map<string, string>;
  /**
   * Resolves once every asset has a leader again, with the time that took
   * (ms since the watch's `from()`), or `undefined` after `timeoutMs`.
   */
  settled(from: number, timeoutMs: number): Promise<number | undefined>;
  /**
   * Resolves once `node` leads or is a current replica of every stream
   * among the assets (it has caught up), with the time that took (ms since
   * `from`), or `undefined` after `timeoutMs`.
   */
  caughtUp(
    node: string,
    from: number,
    timeoutMs: number,
  ): Promise<number | undefined>;
  /** Closes its connection. */
  close(): Promise<void>;
}

function label(a: Asset): string {
  return a.consumer ? `${a.stream}/${a.consumer}` : a.stream;
}

/**
 * Connects to `servers` (the nodes that stay up) and records each asset's
 * leader; {@linkcode LeaderWatch.settled} then polls every 100 ms until
 * each asset reports a leader on a live node.
 */
export async function watchLeaders(
  servers: string[],
  assets: readonly Asset[] = CORTEX_ASSETS,
): Promise<LeaderWatch> {
  const nc = await connect({ servers, maxReconnectAttempts: -1 });
  const jsm = await jetstreamManager(nc, { timeout: 500 });
  const leader = async (a: Asset): Promise<string | undefined> => {
    try {
      const info = a.consumer
        ? await jsm.consumers.info(a.stream, a.consumer)
        : await jsm.streams.info(a.stream);
      return info.cluster?.leader;
    } catch {
      return undefined;
    }
  };
  const current = async (stream: string, node: string): Promise<boolean> => {
    try {
      const cluster = (await jsm.streams.info(stream)).cluster;
      if (cluster?.leader === node) return true;
      const replica = cluster?.replicas?.find((r) => r.name === node);
      return replica !== undefined && replica.current && !replica.offline;
    } catch {
      return false;
    }
  };
  const before = new Map<string, string>();
  for (const a of assets) before.set(label(a), (await leader(a)) ?? "none");
  return {
    before,
    async settled(from, timeoutMs) {
      const deadline = from + timeoutMs;
      const missing = new Set(assets);
      while (performance.now() < deadline) {
        // Asked together: an asset without a leader answers nothing, and
        // its request's 500 ms timeout must not delay the others' answers.
        await Promise.all([...missing].map(async (a) => {
          if (await leader(a)) missing.delete(a);
        }));
        if (missing.size === 0) return performance.now() - from;
        await new Promise((r) => setTimeout(r, 100));
      }
      return undefined;
    },
    async caughtUp(node, from, timeoutMs) {
      const deadline = from + timeoutMs;
      const behind = new Set(
        assets.filter((a) => !a.consumer).map((a) => a.stream),
      );
      while (performance.now() < deadline) {
        await Promise.all([...behind].map(async (stream) => {
          if (await current(stream, node)) behind.delete(stream);
        }));
        if (behind.size === 0) return performance.now() - from;
        await new Promise((r) => setTimeout(r, 250));
      }
      return undefined;
    },
    close: () => nc.close(),
  };
}
