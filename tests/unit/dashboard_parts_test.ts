import {
  assertEquals,
  assertMatch,
  assertOk,
  assertStrictEquals,
} from "../assert.ts";
import { ThroughputMeter } from "../../src/dashboard/throughput.ts";
import {
  checkBinding,
  DashboardConfigError,
  isLoopback,
} from "../../src/dashboard/security.ts";
import { parseSubmitForm } from "../../src/dashboard/submit.ts";
import {
  DashboardMetrics,
  Histogram,
  MAX_TOPICS,
} from "../../src/dashboard/metrics.ts";
import type { BusStatus } from "../../src/dashboard/app.ts";
import {
  type SchedulerObserver,
  type SchedulerService,
  zeroCounters,
} from "../../src/scheduler/service.ts";
import { JobState } from "../../src/contract/mod.ts";
import { jobRecord } from "../job_record.ts";
import { JobPriority } from "../../src/gen/cortex/v1/cortex_pb.ts";

Deno.test("throughput: per-second counts from a sampled total, zeros for silent seconds", () => {
  const meter = new ThroughputMeter();
  meter.sample(0, 10_000);
  assertOk(!meter.sample(30, 10_500), "the second is not over yet");
  assertOk(meter.sample(40, 11_000));
  assertStrictEquals(meter.value().perSecond, 8); // 40 over the last 5 s
  assertOk(meter.sample(40, 14_200)); // two silent seconds, then nothing new
  const { series, perSecond } = meter.value();
  assertStrictEquals(series.length, 60);
  assertEquals(series.slice(-4), [40, 0, 0, 0]);
  assertStrictEquals(perSecond, 8);
});

Deno.test("throughput: an idle minute does not count as a change", () => {
  const meter = new ThroughputMeter();
  meter.sample(0, 0);
  assertOk(!meter.sample(0, 1_000));
  assertOk(!meter.sample(0, 5_000));
});

Deno.test("security: only loopback may listen without a token", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) {
    assertOk(isLoopback(host), host);
    checkBinding(host, "");
  }
  for (const host of ["0.0.0.0", "::", "192.168.1.10", "example.com"]) {
    assertOk(!isLoopback(host), host);
    let error: unknown;
    try {
      checkBinding(host, "");
    } catch (e) {
      error = e;
    }
    assertOk(error instanceof DashboardConfigError, host);
    assertMatch(error.message, /CORTEX_DASHBOARD_TOKEN/);
    checkBinding(host, "a-long-secret-of-32-characters!!");
  }
});

Deno.test("submit form: defaults, priorities by name, and clear refusals", () => {
  assertEquals(parseSubmitForm({ topic: " job.echo " }), {
    topic: "job.echo",
    payload: "",
    priority: JobPriority.UNSPECIFIED,
    count: 1,
  });
  const form = parseSubmitForm({
    topic: "job.echo",
    payload: "x",
    priority: "Critical",
    count: 10,
  });
  assertStrictEquals(
    typeof form === "object" && form.priority,
    JobPriority.CRITICAL,
  );
  assertMatch(parseSubmitForm([]) as string, /JSON object/);
  assertMatch(parseSubmitForm({ topic: 1 }) as string, /topic/);
  assertMatch(
    parseSubmitForm({ topic: "a", payload: {} }) as string,
    /payload/,
  );
  assertMatch(
    parseSubmitForm({ topic: "a", priority: "urgent" }) as string,
    /priority/,
  );
  assertMatch(parseSubmitForm({ topic: "a", count: 1.5 }) as string, /count/);
});

Deno.test("histogram: cumulative buckets, sum and count", () => {
  const h = new Histogram([0.1, 1]);
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  assertEquals(h.render("x"), [
    'x_bucket{le="0.1"} 1',
    'x_bucket{le="1"} 2',
    'x_bucket{le="+Inf"} 3',
    "x_sum 5.55",
    "x_count 3",
  ]);
});

Deno.test("metrics: finished jobs by topic, past MAX_TOPICS under _other, however they alternate", () => {
  const observers: SchedulerObserver[] = [];
  const scheduler = {
    observe: (o: SchedulerObserver) => {
      observers.push(o);
      return () => {};
    },
    counters: zeroCounters(),
    workers: { list: () => [], counts: () => ({}) },
    jobs: { size: 0, inflight: 0 },
  } as unknown as SchedulerService;
  const metrics = new DashboardMetrics({
    scheduler,
    bus: { connected: true, undecodable: 0 } as BusStatus,
    sseClients: () => 0,
    clock: () => 1_000,
  });
  const end = (topic: string, state: JobState) =>
    observers[0].jobChanged?.(
      jobRecord(`${topic}-${state}`, { topic, state, finishedAt: 1_000 }),
    );
  for (let i = 0; i < MAX_TOPICS; i++) end(`t${i}.x`, JobState.COMPLETED);
  // Past the limit, alternating with a tracked topic.
  for (const topic of ["late.x", "t0.x", "late.x", "later.x", "t0.x"]) {
    end(topic, JobState.FAILED);
  }
  const text = metrics.render();
  const line = (status: string, topic: string) =>
    text.split("\n").find((l) =>
      l.startsWith(
        `cortex_jobs_finished_total{status="${status}",topic="${topic}"}`,
      )
    )?.split(" ")[1];
  assertStrictEquals(line("COMPLETED", "t0.x"), "1");
  assertStrictEquals(line("FAILED", "t0.x"), "2");
  assertStrictEquals(line("FAILED", "_other"), "3");
  assertStrictEquals(line("FAILED", "late.x"), undefined);
  metrics.close();
});
