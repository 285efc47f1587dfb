/**
 * A scheduler over an in-memory bus with the dashboard's app, hub and
 * metrics around it, for route and event-stream tests without NATS.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import type { Hono } from "hono";
import {
  HeartbeatSchema,
  JobRequestSchema,
  JobResultSchema,
  JobStatus,
} from "../src/gen/cortex/v1/cortex_pb.ts";
import { packet } from "../src/bus/codec.ts";
import { ECHO_TOPIC, RESULT, SUBMIT } from "../src/bus/subjects.ts";
import { createDashboardApp } from "../src/dashboard/app.ts";
import { EventHub, type EventHubOptions } from "../src/dashboard/event_hub.ts";
import { DashboardMetrics } from "../src/dashboard/metrics.ts";
import { Scheduler } from "../src/scheduler/engine.ts";
import { JobTable } from "../src/scheduler/job_table.ts";
import { WorkerRegistry } from "../src/scheduler/registry.ts";
import { SubjectPolicy } from "../src/scheduler/safety.ts";
import { NaiveStrategy } from "../src/scheduler/strategy.ts";
import { logger } from "../src/log.ts";
import { MemoryBus } from "./memory_bus.ts";

/** Options for {@linkcode dashboardFixture}. */
export interface FixtureOptions {
  token?: string;
  /** Names the app answers to besides loopback names. */
  allowedHosts?: string[];
  distDir?: string;
  /** Default: a flush interval long enough that only `hub.flush()` flushes. */
  events?: EventHubOptions;
  /** Run an echo worker on the bus that answers every job at once. Default true. */
  echo?: boolean;
}

/** The parts, and helpers that act like a submitter and a worker. */
export interface Fixture extends Disposable {
  bus: MemoryBus;
  scheduler: Scheduler;
  hub: EventHub;
  metrics: DashboardMetrics;
  app: Hono;
  /** Publishes a heartbeat of worker `id` on the bus. */
  heartbeat(id: string, extra?: { leaving?: boolean }): void;
  /** Submits a job over the bus, as `deno task submit` does. */
  submit(jobId: string, payload?: string, topic?: string): void;
  /** Resolves once the echo worker's pending answers are in. */
  settle(): Promise<void>;
}

/**
 * Builds the fixture; dispose it (`using f = dashboardFixture()`) to stop
 * the hub's timers.
 */
export function dashboardFixture(options: FixtureOptions = {}): Fixture {
  const bus = new MemoryBus();
  const scheduler = new Scheduler({
    bus,
    safety: new SubjectPolicy({ deny: [], allow: [] }),
    strategy: new NaiveStrategy(),
    registry: new WorkerRegistry({ heartbeatMs: 1_000 }),
    jobs: new JobTable({ capacity: 1_000 }),
    limits: { maxPayloadBytes: 1024 },
    senderId: "scheduler-test",
    log: logger("test"),
    tickMs: 3_600_000,
  });
  void scheduler.start(); // the memory bus subscribes synchronously
  if (options.echo ?? true) {
    bus.subscribe(ECHO_TOPIC, (message) => {
      if (message.payload.case !== "jobRequest") return;
      const job = message.payload.value;
      // Answer after the scheduler's dispatch returns, as a real worker
      // across a real bus would; the memory bus itself is synchronous.
      queueMicrotask(() =>
        bus.publish(
          RESULT,
          packet({
            case: "jobResult",
            value: create(JobResultSchema, {
              jobId: job.jobId,
              status: JobStatus.COMPLETED,
              workerId: "echo-test",
              executionMs: 3n,
              output: job.payload,
            }),
          }, { senderId: "echo-test", traceId: message.traceId }),
        )
      );
    }, { queue: "workers-echo" });
  }
  const hub = new EventHub(scheduler, {
    flushMs: 3_600_000,
    keepAliveMs: 3_600_000,
    ...options.events,
  });
  const metrics = new DashboardMetrics({
    scheduler,
    bus,
    sseClients: () => hub.stats().clients,
  });
  const app = createDashboardApp({
    scheduler,
    bus,
    hub,
    metrics,
    log: logger("test"),
    token: options.token,
    allowedHosts: options.allowedHosts,
    distDir: options.distDir,
  });
  return {
    bus,
    scheduler,
    hub,
    metrics,
    app,
    heartbeat(id, extra = {}) {
      bus.publish(
        `sys.heartbeat.echo`,
        packet({
          case: "heartbeat",
          value: create(HeartbeatSchema, {
            workerId: id,
            pool: "echo",
            region: "local",
            type: "echo",
            maxParallelJobs: 4,
            activeJobs: 1,
            cpuLoad: 0.25,
            leaving: extra.leaving ?? false,
          }),
        }, { senderId: id }),
      );
    },
    submit(jobId, payload = "hello", topic = ECHO_TOPIC) {
      bus.publish(
        SUBMIT,
        packet({
          case: "jobRequest",
          value: create(JobRequestSchema, {
            jobId,
            topic,
            payload: new TextEncoder().encode(payload),
          }),
        }, { senderId: "submit-test" }),
      );
    },
    settle() {
      return new Promise((resolve) => setTimeout(resolve, 0));
    },
    [Symbol.dispose]() {
      hub.close();
      metrics.close();
      scheduler.stop();
    },
  };
}
