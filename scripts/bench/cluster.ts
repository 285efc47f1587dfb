/**
 * The processes a benchmark run measures: CortexOS (scheduler + echo
 * workers, started exactly as `deno task scheduler` / `worker:echo` would,
 * with their least-privilege flags) and the baselines' hops.
 *
 * @module
 */
import {
  AckPolicy,
  DeliverPolicy,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/nats-core";
import { denoArgs, ROOT } from "../permissions.ts";
import { Child, type ChildOptions } from "../support/child.ts";
import type { NatsServer } from "../support/nats_server.ts";
import { freePort } from "../support/ports.ts";
import {
  type ConnectionEvent,
  watchConnection,
} from "../support/connections.ts";

/** Echo workers (and responders in each baseline): as many as cores. */
export const WORKERS = 2;
/** Jobs each echo worker runs at once (as many as the client keeps in flight). */
export const WORKER_CONCURRENCY = 100;
/** The heartbeat interval of the workers, simulated ones included. */
export const HEARTBEAT_MS = 1_000;
/** The scheduler's sender id, which is also its NATS connection name. */
export const SCHEDULER_ID = "bench-scheduler";
/** Bytes in a MB, as memory is reported. */
export const MB = 1024 * 1024;

/** The last lines kept of each process's output: enough to report a failure. */
const KEEP_LINES = 500;

/** Starts `deno args…`, a process of the benchmark, keeping its last lines. */
export function denoChild(
  name: string,
  args: string[],
  options: ChildOptions = {},
): Child {
  return new Child(name, "deno", args, { keepLines: KEEP_LINES, ...options });
}

/** Baseline (a): the client publishes here; the relay listens. */
export const RELAY_IN = "bench.relay.submit";
/** Baseline (a): the relay forwards here; the responders listen. */
export const RELAY_WORK = "bench.relay.work";
/** Baseline (a): the responders answer here; the client listens. */
export const RELAY_OUT = "bench.relay.result";
/** Baseline (b): request/reply subject of the no-op responders. */
export const REPLY_SUBJECT = "bench.reply";
/** The JetStream floor: the client publishes here, into {@linkcode FLOOR_STREAM}. */
export const FLOOR_IN = "bench.floor.submit";
/** The JetStream floor's work-queue stream, stored like CortexOS's streams. */
export const FLOOR_STREAM = "BENCH_FLOOR";
/** The JetStream floor's pull consumer, shared by its responders. */
export const FLOOR_CONSUMER = "responders";
/** The JetStream floor: the responders answer here on core NATS. */
export const FLOOR_OUT = "bench.floor.result";

/** Starts scripts/bench/hop.ts as a process (a baseline's hop). */
function hopChild(nats: NatsServer, name: string, args: string[]): Child {
  return denoChild(name, [
    "run",
    "--no-prompt",
    `--allow-net=127.0.0.1:${nats.port}`,
    `${ROOT}/scripts/bench/hop.ts`,
    nats.url,
    ...args,
  ], { stdin: true });
}

/** The scheduler (and its other replicas, when asked for) and its echo workers. */
export class Cortex {
  readonly scheduler: Child;
  /** Scheduler replicas besides {@linkcode Cortex.scheduler}. */
  readonly replicas: Child[];
  readonly workers: Child[];
  readonly dashboardUrl: string;
  /** How long each process may take to exit after SIGTERM before SIGKILL. */
  readonly graceMs: number;
  /** Every process's connection lines so far, in order. */
  readonly connections: ConnectionEvent[];

  private constructor(
    scheduler: Child,
    replicas: Child[],
    workers: Child[],
    url: string,
    graceMs: number,
    connections: ConnectionEvent[],
  ) {
    this.scheduler = scheduler;
    this.replicas = replicas;
    this.workers = workers;
    this.dashboardUrl = url;
    this.graceMs = graceMs;
    this.connections = connections;
  }

  static async start(
    nats: Pick<NatsServer, "url">,
    options: {
      jobTableSize?: number;
      profile?: string;
      denoFlags?: string[];
      /** Durable mode (`CORTEX_DURABILITY=jetstream`) for every process. */
      durable?: boolean;
      /** Scheduler replicas in all. Default 1. */
      schedulers?: number;
      /** `CORTEX_STREAM_REPLICAS`. Default: the scheduler's default. */
      streamReplicas?: number;
      /**
       * Added to the scheduler's environment only, e.g. an allocator
       * setting (`MALLOC_ARENA_MAX`) to measure; never a variable it reads.
       */
      schedulerEnv?: Record<string, string>;
    } = {},
  ): Promise<Cortex> {
    const port = freePort();
    const launch = {
      natsUrl: nats.url,
      dashboard: true,
      dashboardHost: "127.0.0.1",
      dashboardPort: port,
    };
    const common: Record<string, string> = {
      NATS_URL: nats.url,
      CORTEX_LOG_LEVEL: "info",
      CORTEX_LOG_FORMAT: "text",
      CORTEX_HEARTBEAT_MS: String(HEARTBEAT_MS),
      CORTEX_DURABILITY: options.durable ? "jetstream" : "none",
      ...(options.streamReplicas
        ? { CORTEX_STREAM_REPLICAS: String(options.streamReplicas) }
        : {}),
    };
    const extra = [
      ...(options.profile
        ? ["--cpu-prof", `--cpu-prof-dir=${options.profile}`]
        : []),
      ...(options.denoFlags ?? []),
    ];
    const prof = (args: string[]) => [args[0], ...extra, ...args.slice(1)];
    const connections: ConnectionEvent[] = [];
    const scheduler = denoChild(
      "scheduler",
      prof(denoArgs("scheduler", launch)),
      {
        onLine: watchConnection("scheduler", connections),
        env: {
          ...common,
          CORTEX_SCHEDULER_ID: SCHEDULER_ID,
          CORTEX_DASHBOARD: "on",
          CORTEX_DASHBOARD_HOST: "127.0.0.1",
          CORTEX_DASHBOARD_PORT: String(port),
          CORTEX_JOB_TABLE_SIZE: String(options.jobTableSize ?? 10_000),
          ...options.schedulerEnv,
        },
      },
    );
    const replicas = Array.from(
      { length: Math.max(0, (options.schedulers ?? 1) - 1) },
      (_, i) => {
        const replicaPort = freePort();
        return denoChild(
          `scheduler-${i + 2}`,
          prof(
            denoArgs("scheduler", { ...launch, dashboardPort: replicaPort }),
          ),
          {
            onLine: watchConnection(`scheduler${i + 2}`, connections),
            env: {
              ...common,
              CORTEX_SCHEDULER_ID: `${SCHEDULER_ID}-${i + 2}`,
              CORTEX_DASHBOARD: "on",
              CORTEX_DASHBOARD_HOST: "127.0.0.1",
              CORTEX_DASHBOARD_PORT: String(replicaPort),
              CORTEX_JOB_TABLE_SIZE: String(options.jobTableSize ?? 10_000),
            },
          },
        );
      },
    );
    const workers = Array.from(
      { length: WORKERS },
      (_, i) =>
        denoChild(
          `worker-${i + 1}`,
          prof(denoArgs("worker:echo", { ...launch, dashboard: false })),
          {
            onLine: watchConnection(`worker${i + 1}`, connections),
            env: {
              ...common,
              CORTEX_WORKER_ID: `bench-echo-${i + 1}`,
              CORTEX_ECHO_MIN_MS: "0",
              CORTEX_ECHO_MAX_MS: "0",
              CORTEX_WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
            },
          },
        ),
    );
    // A profiled process writes its profile as it exits, which takes a
    // while after a long run: it is not killed before it has.
    const cortex = new Cortex(
      scheduler,
      replicas,
      workers,
      `http://127.0.0.1:${port}`,
      options.profile ? 120_000 : 10_000,
      connections,
    );
    try {
      await scheduler.waitFor(
        options.durable ? /durability: jetstream/ : /durability: core/,
      );
      // A fresh cluster can take longer than the default 20 s to make its
      // first replicated streams on a busy machine (seen: over 20 s).
      for (const s of [scheduler, ...replicas]) {
        await s.waitFor(/serving sys\.job\.submit/, 90_000);
      }
      await Promise.all(
        workers.map((w) =>
          w.waitFor(
            options.durable
              ? /taking job\.echo from stream/
              : /taking job\.echo in queue group/,
          )
        ),
      );
    } catch (error) {
      await cortex.stop();
      throw error;
    }
    return cortex;
  }

  pids(): Record<string, number> {
    const out: Record<string, number> = { scheduler: this.scheduler.pid };
    this.replicas.forEach((r, i) => out[`scheduler${i + 2}`] = r.pid);
    this.workers.forEach((w, i) => out[`worker${i + 1}`] = w.pid);
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(
      [this.scheduler, ...this.replicas, ...this.workers].map((c) =>
        c.stop("SIGTERM", this.graceMs)
      ),
    );
  }
}

/** The baselines' processes: relay + 2 responders, and 2 request/reply responders. */
export class Baselines {
  readonly relay: Child;
  readonly responders: Child[];
  readonly repliers: Child[];

  private constructor(relay: Child, responders: Child[], repliers: Child[]) {
    this.relay = relay;
    this.responders = responders;
    this.repliers = repliers;
  }

  static async start(nats: NatsServer): Promise<Baselines> {
    const hop = (name: string, args: string[]) => hopChild(nats, name, args);
    const relay = hop("relay", [
      "forward",
      RELAY_IN,
      RELAY_WORK,
      "bench-relay",
    ]);
    const responders = Array.from(
      { length: WORKERS },
      (_, i) =>
        hop(`responder-${i + 1}`, [
          "forward",
          RELAY_WORK,
          RELAY_OUT,
          "bench-responders",
        ]),
    );
    const repliers = Array.from(
      { length: WORKERS },
      (_, i) =>
        hop(`replier-${i + 1}`, ["reply", REPLY_SUBJECT, "bench-reply"]),
    );
    const all = [relay, ...responders, ...repliers];
    const b = new Baselines(relay, responders, repliers);
    try {
      await Promise.all(all.map((c) => c.waitFor(/^ready$/)));
    } catch (error) {
      await b.stop();
      throw error;
    }
    return b;
  }

  relayPids(): Record<string, number> {
    const out: Record<string, number> = { relay: this.relay.pid };
    this.responders.forEach((r, i) => out[`responder${i + 1}`] = r.pid);
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(
      [this.relay, ...this.responders, ...this.repliers].map((c) => c.stop()),
    );
  }
}

/**
 * The JetStream floor of one stored hop: a work-queue stream (file
 * storage, dedupe window, as CortexOS's streams) with a pull consumer with
 * explicit acks, and {@linkcode WORKERS} responder processes sharing it,
 * each answering on core NATS with the message's bytes and acking.
 */
export class Floor {
  readonly responders: Child[];

  private constructor(responders: Child[]) {
    this.responders = responders;
  }

  /** Makes the stream and consumer (anew) over `nc`, then starts the responders. */
  static async start(nats: NatsServer, nc: NatsConnection): Promise<Floor> {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(FLOOR_STREAM).catch(() => false);
    await jsm.streams.add({
      name: FLOOR_STREAM,
      subjects: [FLOOR_IN],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: 1,
      duplicate_window: nanos(120_000),
    });
    await jsm.consumers.add(FLOOR_STREAM, {
      durable_name: FLOOR_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(5_000),
      max_ack_pending: 20_000,
    });
    const responders = Array.from(
      { length: WORKERS },
      (_, i) =>
        hopChild(nats, `floor-${i + 1}`, [
          "pull",
          FLOOR_STREAM,
          FLOOR_CONSUMER,
          FLOOR_OUT,
        ]),
    );
    const floor = new Floor(responders);
    try {
      await Promise.all(responders.map((c) => c.waitFor(/^ready$/)));
    } catch (error) {
      await floor.stop();
      throw error;
    }
    return floor;
  }

  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    this.responders.forEach((r, i) => out[`responder${i + 1}`] = r.pid);
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(this.responders.map((c) => c.stop()));
  }
}
