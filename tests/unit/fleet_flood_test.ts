/**
 * A flood of new worker ids costs the scheduler little per heartbeat: no
 * log line, no dashboard event and no kept state for an id the registry
 * has no room for, and the fleet's own lines at a bounded rate.
 */
import { create } from "@bufbuild/protobuf";
import { HeartbeatSchema } from "../../src/gen/cortex/v1/cortex_pb.ts";
import { packet } from "../../src/bus/codec.ts";
import { recordingLogger } from "../recording_logger.ts";
import { Scheduler } from "../../src/scheduler/engine.ts";
import { FleetLog } from "../../src/scheduler/fleet_log.ts";
import { JobTable } from "../../src/scheduler/job_table.ts";
import { Probation } from "../../src/scheduler/probation.ts";
import { WorkerRegistry } from "../../src/scheduler/registry.ts";
import { SubjectPolicy } from "../../src/scheduler/safety.ts";
import { NaiveStrategy } from "../../src/scheduler/strategy.ts";
import { assertEquals, assertMatch } from "../assert.ts";
import { MemoryBus } from "../memory_bus.ts";

Deno.test("a flood of new ids past a full registry: one warning, no event, nothing kept per id", () => {
  const bus = new MemoryBus();
  const { log, lines } = recordingLogger();
  const engine = new Scheduler({
    bus,
    safety: new SubjectPolicy(),
    strategy: new NaiveStrategy(),
    registry: new WorkerRegistry({
      heartbeatMs: 1_000,
      capacity: 100,
    }),
    jobs: new JobTable({ capacity: 10 }),
    limits: { maxPayloadBytes: 1024 },
    senderId: "scheduler-test",
    log,
    tickMs: 3_600_000,
  });
  void engine.start();
  const changed: string[] = [];
  engine.observe({ workerChanged: (w) => changed.push(w.workerId) });
  const beat = (workerId: string) =>
    bus.publish(
      "sys.heartbeat.echo",
      packet({
        case: "heartbeat",
        value: create(HeartbeatSchema, { workerId, pool: "echo" }),
      }, { senderId: workerId }),
    );
  for (let i = 0; i < 5_000; i++) beat(`flood-${i}`);
  assertEquals(engine.workers.list().length, 100);
  assertEquals(changed.length, 100, "an event per worker that got in, only");
  assertEquals(engine.counters.badHeartbeats, 4_900);
  // 50 joins said one by one, then the registry-full warning once.
  assertEquals(lines.filter((l) => / joined$/.test(l)).length, 50);
  assertEquals(lines.filter((l) => /registry is full/.test(l)).length, 1);
  assertEquals(lines.length, 51);
  // A real worker still gets in on its second beat, the flood notwithstanding.
  beat("echo-real");
  beat("echo-real");
  assertEquals(engine.workers.get("echo-real")?.state, "online");
  engine.stop();
});

Deno.test("fleet log: at most perWindow lines, then counts by kind, summed up after the window", () => {
  const { log, lines } = recordingLogger();
  let now = 0;
  const fleet = new FleetLog(log, { perWindow: 2, clock: () => now });
  assertEquals(fleet.change("joined", "a", "echo"), true);
  assertEquals(fleet.change("stale", "b", "echo"), true);
  assertEquals(fleet.change("joined", "c", "echo"), false);
  assertEquals(fleet.change("offline", "d", "echo"), false);
  assertEquals(fleet.change("offline", "e", "echo"), false);
  assertEquals(lines, ["worker a (echo) joined", "worker b (echo) is stale"]);
  now += 9_999;
  fleet.tick();
  assertEquals(lines.length, 2);
  now += 1;
  fleet.tick();
  assertMatch(
    lines[2],
    /at most 2 lines per 10 s.* in the last 10 s: 1 joined, 2 went offline$/,
  );
  fleet.tick();
  assertEquals(lines.length, 3, "summed up once");
  assertEquals(fleet.change("back", "a", "echo"), true);
  assertEquals(lines[3], "worker a (echo) is back online");
});

Deno.test("probation: the last `limit` arrivals, minus those let in; O(1) and no growth", () => {
  const probation = new Probation(3);
  for (const id of ["a", "b", "c"]) probation.add(id);
  assertEquals(probation.delete("a"), true);
  assertEquals(probation.delete("a"), false);
  probation.add("d"); // takes a's slot: b, c, d
  assertEquals(probation.size, 3);
  probation.add("e"); // b forgotten
  assertEquals(probation.delete("b"), false);
  assertEquals(probation.delete("c"), true);
  for (let i = 0; i < 10_000; i++) probation.add(`flood-${i}`);
  assertEquals(probation.size, 3);
  assertEquals(probation.delete("flood-9999"), true);
  assertEquals(
    new Probation(0).delete((new Probation(0).add("x"), "x")),
    false,
  );
});

Deno.test("registry.refuses: only a new id, while full, not on probation; it goes on probation", () => {
  const registry = new WorkerRegistry({ capacity: 1 });
  const beat = (workerId: string) =>
    registry.observe(create(HeartbeatSchema, { workerId, pool: "echo" }));
  assertEquals(registry.refuses("a"), false, "room left");
  beat("a");
  assertEquals(registry.refuses("a"), false, "known");
  assertEquals(registry.refuses("b"), true, "new, and full");
  assertEquals(registry.refuses("b"), false, "on probation: observe decides");
  // Its next beat takes the place of a, which beat only once.
  assertEquals(beat("b")?.was, undefined);
  assertEquals(registry.list().map((w) => w.workerId), ["b"]);
});
