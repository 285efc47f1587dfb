/**
 * The one way a CortexOS process connects to NATS: a named connection that
 * reconnects forever, every quarter second with jitter, and logs its lifecycle.
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";
import type * as nats from "@nats-io/nats-core";
import type { Logger } from "../log.ts";

/** An open NATS client connection: `@nats-io/nats-core`'s own type. */
export type NatsConnection = nats.NatsConnection;

/** Options for {@linkcode connectNats}. */
export interface ConnectOptions {
  /** `NATS_URL`: one URL or several, comma-separated. */
  url: string;
  /** The connection name the server shows (e.g. `cortex-scheduler`). */
  name: string;
  /** Where connection changes (lost, back, closed) are logged. */
  log: Logger;
  /**
   * Keep trying when the server is not up yet (services: true), or fail at
   * once with {@linkcode NatsUnreachable} (CLIs: false). Default true.
   */
  waitForServer?: boolean;
  /**
   * Wait between reconnect attempts, in ms, ±40 % jitter so a fleet does not
   * return in step. Default 250: a server back from a restart has everyone
   * again within about a second (exponential growth to 5 s took 3.4 s).
   */
  reconnectWaitMs?: number;
}

/** NATS could not be reached at `url`. */
export class NatsUnreachable extends Error {
  /** Shown before the message in logs and stack traces. */
  override name = "NatsUnreachable";
  /**
   * An error for `url` (kept as {@linkcode NatsUnreachable.url}), with
   * `cause` the client's error and a message that says what to do.
   */
  constructor(readonly url: string, cause: unknown) {
    super(
      `cannot reach NATS at ${url} (${
        cause instanceof Error ? cause.message : String(cause)
      }): start nats-server, or set NATS_URL to a running one`,
      { cause },
    );
  }
}

/**
 * Connects to NATS. A lost connection is retried forever, every
 * `reconnectWaitMs` (with jitter); disconnect, reconnect and close are
 * logged.
 *
 * @throws {NatsUnreachable} when `waitForServer` is false and the first
 * connection fails.
 * @example
 * ```ts
 * const nc = await connectNats({ url: "nats://127.0.0.1:4222", name: "demo", log });
 * await nc.drain();
 * ```
 */
export async function connectNats(
  options: ConnectOptions,
): Promise<NatsConnection> {
  const { url, name, log, waitForServer = true, reconnectWaitMs = 250 } =
    options;
  const backoff = () => reconnectWaitMs * (0.6 + Math.random() * 0.8);
  const servers = url.split(",").map((s) => s.trim());

  let waiting: ReturnType<typeof setInterval> | undefined;
  if (waitForServer) {
    const started = Date.now();
    waiting = setInterval(() => {
      log.warn("still waiting for NATS at {url} ({seconds} s)", {
        url,
        seconds: Math.round((Date.now() - started) / 1000),
      });
    }, 5_000);
  }
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name,
      maxReconnectAttempts: -1,
      reconnectDelayHandler: backoff,
      waitOnFirstConnect: waitForServer,
      timeout: 2_000,
      pingInterval: 10_000,
      // nats.js otherwise makes two Error objects (stack captured) per
      // request, to name the caller should it time out: 16 % of a durable
      // scheduler's CPU (four requests per job). Errors keep their message.
      noAsyncTraces: true,
      // Connect by the name in NATS_URL rather than to the addresses it
      // resolves to: the process's --allow-net lists the name (see
      // scripts/permissions.ts), and those addresses are unknown at launch.
      resolve: false,
    });
  } catch (error) {
    throw new NatsUnreachable(url, error);
  } finally {
    clearInterval(waiting);
  }
  log.info("connected to NATS at {server} as {name}", {
    server: nc.getServer(),
    name,
  });
  watchStatus(nc, log);
  return nc;
}

async function watchStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const status of nc.status()) {
    switch (status.type) {
      case "disconnect":
        log.warn("disconnected from NATS at {server}; reconnecting", {
          server: status.server,
        });
        break;
      case "reconnect":
        log.info("reconnected to NATS at {server}", { server: status.server });
        break;
      case "error":
        log.error("NATS error: {error}", { error: status.error.message });
        break;
      case "slowConsumer":
        log.warn("slow consumer on {subject}: {pending} messages pending", {
          subject: status.sub.getSubject(),
          pending: status.pending,
        });
        break;
      case "close":
        log.info("NATS connection closed");
        return;
    }
  }
}
