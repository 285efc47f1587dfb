/**
 * `deno task bench --quick --json` runs every scenario (core, durable and
 * operator parts) and writes one JSON document with figures for each. Nothing here is about speed: the machine
 * is shared, so only the shape of the report is checked.
 */
import { runTask } from "../processes.ts";
import { assertOk } from "../assert.ts";

const RUN_FIELDS = [
  "jobs",
  "completed",
  "missing",
  "seconds",
  "jobs_per_s",
  "p50_ms",
  "p90_ms",
  "p99_ms",
  "max_ms",
];

type Doc = Record<string, unknown>;

function numeric(value: unknown, where: string): void {
  assertOk(
    typeof value === "number" && Number.isFinite(value),
    `${where} is ${JSON.stringify(value)}, not a number`,
  );
}

function run(value: unknown, where: string): void {
  assertOk(value && typeof value === "object", `${where} is missing`);
  for (const field of RUN_FIELDS) {
    numeric((value as Doc)[field], `${where}.${field}`);
  }
}

Deno.test({
  name: "deno task bench --quick --json reports every scenario with figures",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { code, stdout, stderr } = await runTask("bench", [
      "--quick",
      "--json",
    ]);
    assertOk(code === 0, `bench exited ${code}:\n${stderr.slice(-3000)}`);
    const doc = JSON.parse(stdout) as Doc;
    assertOk(doc.mode === "quick");
    const s = doc.scenarios as Record<string, Doc>;

    for (const name of ["throughput", "latency"]) {
      for (const system of ["cortex", "relay", "request_reply"]) {
        run(s[name][system], `${name}.${system}`);
      }
    }
    run(s.throughput.raw_driver, "throughput.raw_driver");
    numeric(s.throughput.ratio_to_relay, "throughput.ratio_to_relay");
    numeric(
      s.throughput.ratio_to_raw_driver,
      "throughput.ratio_to_raw_driver",
    );
    numeric(s.latency.p50_ratio_to_relay, "latency.p50_ratio_to_relay");
    numeric(s.latency.p99_ratio_to_relay, "latency.p99_ratio_to_relay");

    run(s.fleet.cortex, "fleet.cortex");
    for (
      const field of [
        "simulated_workers",
        "heartbeats_sent",
        "scheduler_cpu_cores",
        "scheduler_peak_rss_mb",
        "scheduler_max_pending_bytes",
        "slow_consumers",
      ]
    ) numeric(s.fleet[field], `fleet.${field}`);
    assertOk((s.fleet.heartbeats_sent as number) > 0, "no heartbeat was sent");

    run(s.history.cortex, "history.cortex");
    const checkpoints = s.history.checkpoints as Doc[];
    assertOk(checkpoints.length === 3, "three memory checkpoints");
    for (const [i, c] of checkpoints.entries()) {
      numeric(c.jobs, `history.checkpoints[${i}].jobs`);
      numeric(c.peak_rss_mb, `history.checkpoints[${i}].peak_rss_mb`);
      numeric(c.rss_mb, `history.checkpoints[${i}].rss_mb`);
    }
    numeric(s.history.growth_ratio, "history.growth_ratio");

    // Scenario 5 needs the dashboard's SSE stream; without it, a note says so.
    const d = s.dashboard;
    if (d.skipped) {
      assertOk(typeof d.note === "string" && d.note !== "", "a skip note");
    } else {
      run(d.without_clients, "dashboard.without_clients");
      run(d.with_clients, "dashboard.with_clients");
      for (
        const field of ["throughput_cost", "delivery_p50_ms", "delivery_p99_ms"]
      ) numeric(d[field], `dashboard.${field}`);
    }

    // Durable mode: d1 and d2 beside the JetStream floor, d3 memory.
    const dt = s.durable_throughput;
    run(dt.cortex, "durable_throughput.cortex");
    run(dt.floor, "durable_throughput.floor");
    numeric(dt.ratio_to_floor, "durable_throughput.ratio_to_floor");
    numeric(
      dt.stored_writes_per_job,
      "durable_throughput.stored_writes_per_job",
    );
    for (const system of ["cortex", "floor"]) {
      const cores = (dt.cpu_cores as Record<string, Doc>)[system];
      assertOk(cores && "nats" in cores, `durable ${system} CPU names nats`);
      for (const [name, value] of Object.entries(cores)) {
        numeric(value, `durable_throughput.cpu_cores.${system}.${name}`);
      }
    }
    const dl = s.durable_latency;
    run(dl.cortex, "durable_latency.cortex");
    run(dl.floor, "durable_latency.floor");
    numeric(dl.p50_ratio_to_floor, "durable_latency.p50_ratio_to_floor");
    numeric(dl.p99_ratio_to_floor, "durable_latency.p99_ratio_to_floor");
    const dh = s.durable_history;
    run(dh.cortex, "durable_history.cortex");
    const durableCheckpoints = dh.checkpoints as Doc[];
    assertOk(durableCheckpoints.length === 3, "three durable checkpoints");
    for (const [i, c] of durableCheckpoints.entries()) {
      numeric(c.peak_rss_mb, `durable_history.checkpoints[${i}].peak_rss_mb`);
    }
    numeric(dh.growth_ratio, "durable_history.growth_ratio");

    // The cluster: c1 throughput, c2 latency, c3 a node killed mid-round.
    const cl = s.cluster;
    run(cl.throughput, "cluster.throughput");
    run(cl.latency, "cluster.latency");
    const recovery = cl.recovery as Doc;
    run(recovery.run, "cluster.recovery.run");
    numeric(recovery.longest_gap_s, "cluster.recovery.longest_gap_s");
    numeric(recovery.looked_up, "cluster.recovery.looked_up");
    numeric(recovery.killed_node, "cluster.recovery.killed_node");
    // Each process on the killed node: its reconnection time, or null.
    for (const [who, t] of Object.entries(recovery.reconnect_s as Doc)) {
      assertOk(t === null || typeof t === "number", `reconnect_s.${who}`);
    }
    assertOk(
      cl.nodes === 3 && cl.stream_replicas === 3 && cl.schedulers === 2,
      "three nodes, three replicas, two schedulers",
    );

    // Operator: o1 searches through a filled ledger, o2 a bulk retry.
    assertOk(
      JSON.stringify(doc.parts) === '["core","durable","operator"]',
      `every part ran: ${JSON.stringify(doc.parts)}`,
    );
    const o = s.search;
    const queries = o.queries as Doc[];
    assertOk(queries.length > 0, "searches timed");
    for (const [i, q] of queries.entries()) {
      for (const field of ["matched", "p50_ms", "p95_ms", "max_ms"]) {
        numeric(q[field], `search.queries[${i}].${field}`);
      }
    }
    for (const field of ["jobs", "p95_ms", "max_ms", "scheduler_rss_mb"]) {
      numeric(o[field], `search.${field}`);
    }
    assertOk(
      queries.some((q) => (q.matched as number) > 0),
      "a search found jobs",
    );
    const b = s.bulk_retry;
    for (const phase of ["before", "during", "after"]) {
      run(b[phase], `bulk_retry.${phase}`);
    }
    for (
      const field of ["seconds", "retries_per_s", "during_share", "matched"]
    ) numeric(b[field], `bulk_retry.${field}`);
    assertOk(
      b.matched === b.dead_letters && b.retried === b.dead_letters,
      `every dead letter matched and retried: ${JSON.stringify(b)}`,
    );

    const targets = doc.targets as Doc[];
    assertOk(targets.length >= 16, "every target judged");
    for (
      const goal of [
        /JetStream floor's jobs\/s/,
        /BullMQ's ~11,000/,
        /p50 <= 2x the JetStream floor's p50/,
        /every search p95 < 100 ms/,
        /other jobs keep > 50 % of normal/,
      ]
    ) {
      assertOk(
        targets.some((t) => goal.test(String(t.target))),
        `a target matching ${goal}`,
      );
    }
    assertOk(
      targets.filter((t) => String(t.scenario).startsWith("d3")).length === 1,
      "the durable memory target",
    );
    for (const t of targets) {
      assertOk(
        t.met === true || t.met === false || t.met === null,
        `target ${t.target}: met is ${t.met}`,
      );
    }
  },
});
