import { create } from "@bufbuild/protobuf";
import { HeartbeatSchema } from "../../src/gen/cortex/v1/cortex_pb.ts";
import { WorkerRegistry } from "../../src/scheduler/registry.ts";
import { assertEquals } from "../assert.ts";

function setup() {
  let now = 1_000_000;
  const registry = new WorkerRegistry({
    heartbeatMs: 1_000,
    staleAfterBeats: 2,
    offlineAfterBeats: 3,
    forgetAfterMs: 10_000,
    clock: () => now,
  });
  const beat = (
    workerId: string,
    extra: Partial<{ leaving: boolean; activeJobs: number }> = {},
  ) =>
    registry.observe(
      create(HeartbeatSchema, { workerId, pool: "echo", ...extra }),
    );
  return { registry, beat, advance: (ms: number) => now += ms };
}

Deno.test("a worker is online, then stale after 2 missed beats, then offline after 3", () => {
  const { registry, beat, advance } = setup();
  beat("w1");
  assertEquals(registry.get("w1")?.state, "online");
  advance(2_000);
  assertEquals(registry.get("w1")?.state, "online");
  advance(1);
  assertEquals(registry.get("w1")?.state, "stale");
  advance(1_000);
  assertEquals(registry.get("w1")?.state, "offline");
  beat("w1");
  assertEquals(registry.get("w1")?.state, "online");
});

Deno.test("the latest heartbeat wins and first-seen is kept", () => {
  const { registry, beat, advance } = setup();
  beat("w1", { activeJobs: 1 });
  const first = registry.get("w1")!.firstSeen;
  advance(500);
  beat("w1", { activeJobs: 4 });
  const view = registry.get("w1")!;
  assertEquals(view.activeJobs, 4);
  assertEquals(view.firstSeen, first);
  assertEquals(view.lastSeen, first + 500);
});

Deno.test("a leaving heartbeat takes the worker offline at once", () => {
  const { registry, beat } = setup();
  beat("w1");
  beat("w1", { leaving: true });
  assertEquals(registry.get("w1")?.state, "offline");
  assertEquals(registry.counts(), {
    online: 0,
    draining: 0,
    stale: 0,
    offline: 1,
  });
});

Deno.test("offline workers are forgotten after forgetAfterMs, others are kept", () => {
  const { registry, beat, advance } = setup();
  beat("gone");
  beat("left");
  beat("left", { leaving: true });
  advance(10_001);
  beat("alive");
  assertEquals(registry.tick().forgotten, ["left"]); // offline since its leaving beat
  advance(3_000); // "gone" went offline 3 s after its last beat
  assertEquals(registry.tick().forgotten, ["gone"]);
  assertEquals(registry.list().map((w) => w.workerId), ["alive"]);
});

Deno.test("list is sorted by pool then id and counts add up", () => {
  const { registry, beat } = setup();
  beat("b");
  beat("a");
  registry.observe(create(HeartbeatSchema, { workerId: "c", pool: "aaa" }));
  assertEquals(registry.list().map((w) => w.workerId), ["c", "a", "b"]);
  assertEquals(registry.counts().online, 3);
});

Deno.test("a full registry ignores new workers until offline ones can be forgotten", () => {
  let now = 0;
  const registry = new WorkerRegistry({
    heartbeatMs: 1_000,
    forgetAfterMs: 5_000,
    capacity: 2,
    clock: () => now,
  });
  const beat = (workerId: string) =>
    registry.observe(create(HeartbeatSchema, { workerId, pool: "echo" }));
  beat("a");
  beat("b");
  assertEquals(beat("c"), undefined);
  assertEquals(beat("a")?.worker.state, "online"); // known workers still beat
  assertEquals(registry.size, 2);
  now += 3_001 + 5_001; // b: offline 3 s after its beat, then past forgetAfterMs
  beat("a");
  assertEquals(beat("c")?.worker.state, "online");
  assertEquals(registry.list().map((w) => w.workerId), ["a", "c"]);
  // b, forgotten to make room for c, is reported at the next tick.
  assertEquals(registry.tick().forgotten, ["b"]);
});

Deno.test("the registry reports each state change once: by heartbeat, or at the tick", () => {
  const { registry, beat, advance } = setup();
  assertEquals(beat("w1")?.was, undefined); // new
  assertEquals(beat("w1")?.was, "online");
  assertEquals(registry.tick().changed, []);
  advance(2_001);
  assertEquals(registry.tick().changed.map((w) => w.state), ["stale"]);
  assertEquals(registry.tick().changed, []); // told once
  advance(1_000);
  assertEquals(registry.tick().changed.map((w) => w.state), ["offline"]);
  const back = beat("w1");
  assertEquals([back?.was, back?.worker.state], ["offline", "online"]);
  assertEquals(registry.tick().changed, []);
  const leaving = beat("w1", { leaving: true });
  assertEquals([leaving?.was, leaving?.worker.state], ["online", "offline"]);
  assertEquals(registry.tick().changed, []); // the heartbeat said it already
});

Deno.test("a flood of 50,000 ids that beat once does not lock out a worker that beats steadily", () => {
  let now = 0;
  const registry = new WorkerRegistry({ heartbeatMs: 1_000, clock: () => now });
  const beat = (workerId: string) =>
    registry.observe(create(HeartbeatSchema, { workerId, pool: "echo" }));
  beat("steady-old"); // a worker that was there before the flood
  beat("steady-old");
  for (let i = 0; i < 50_000; i++) beat(`flood-${i}`);
  assertEquals(registry.size, 10_000);
  // Known workers still beat during and after the flood.
  assertEquals(beat("steady-old")?.worker.state, "online");
  // A new worker: its first beat waits on probation, its second gets it in,
  // in the place of an id that beat only once.
  now += 1_000;
  assertEquals(beat("steady-new"), undefined);
  now += 1_000;
  assertEquals(beat("steady-new")?.was, undefined);
  assertEquals(registry.get("steady-new")?.state, "online");
  assertEquals(registry.get("steady-old")?.state, "online");
  assertEquals(registry.size, 10_000);
  // The one displaced is reported as forgotten at the next tick.
  assertEquals(registry.tick().forgotten.length, 1);
  // And it stays: more flooding displaces only ids that beat once.
  for (let i = 50_000; i < 80_000; i++) beat(`flood-${i}`);
  now += 1_000;
  beat("steady-new");
  assertEquals(registry.get("steady-new")?.state, "online");
});

Deno.test("a flood interleaved with a steady worker: it gets in on its second beat", () => {
  let now = 0;
  const registry = new WorkerRegistry({
    heartbeatMs: 1_000,
    capacity: 100,
    clock: () => now,
  });
  const beat = (workerId: string) =>
    registry.observe(create(HeartbeatSchema, { workerId, pool: "echo" }));
  let flood = 0;
  while (flood < 100) beat(`flood-${flood++}`); // full of ids that beat once
  let admitted = -1;
  for (let second = 0; second < 10 && admitted < 0; second++) {
    // 99 new ids a second: fewer than the probation set holds.
    for (let i = 0; i < 99; i++) beat(`flood-${flood++}`);
    if (beat("steady")) admitted = second;
    now += 1_000;
  }
  assertEquals(admitted, 1);
});

Deno.test("a full registry of workers that beat twice refuses new ones until the tick forgets the offline", () => {
  let now = 0;
  const registry = new WorkerRegistry({
    heartbeatMs: 1_000,
    forgetAfterMs: 5_000,
    capacity: 3,
    clock: () => now,
  });
  const beat = (workerId: string) =>
    registry.observe(create(HeartbeatSchema, { workerId, pool: "echo" }));
  for (const id of ["a", "b", "c"]) {
    beat(id);
    beat(id);
  }
  assertEquals(beat("d"), undefined); // probation
  assertEquals(beat("d"), undefined); // nobody to displace: every worker beat twice
  now += 3_001 + 5_001;
  beat("a");
  assertEquals(beat("d"), undefined); // forgetting happens at the tick, not here
  assertEquals(registry.tick().forgotten, ["b", "c"]);
  assertEquals(beat("d")?.worker.state, "online");
});

Deno.test("probation is bounded: its oldest ids are forgotten first", () => {
  const registry = new WorkerRegistry({ capacity: 1, probation: 2 });
  const beat = (workerId: string) =>
    registry.observe(create(HeartbeatSchema, { workerId, pool: "echo" }));
  beat("a");
  beat("p1"); // probation: p1
  beat("p2"); // probation: p1, p2
  beat("p3"); // probation: p2, p3 (p1 forgotten)
  assertEquals(beat("p1"), undefined); // back on probation, not in
  assertEquals(beat("p3")?.worker.workerId, "p3"); // second beat: displaces a
  assertEquals(registry.list().map((w) => w.workerId), ["p3"]);
});

Deno.test("identity: a beat with another session changes nothing and cannot take the worker offline", () => {
  const { registry, advance } = setup();
  const beat = (fields: Record<string, unknown>) =>
    registry.observe(
      create(HeartbeatSchema, { workerId: "w1", pool: "echo", ...fields }),
    );
  const real = { region: "eu", type: "echo", session: "s-real" };
  assertEquals(beat(real)?.impostor, undefined);
  // A forger that knows the id but not the session.
  const forged = beat({ region: "evil", pool: "gpu", session: "s-forged" });
  assertEquals([forged?.impostor, forged?.worker.region], [true, "eu"]);
  assertEquals(beat({ leaving: true, session: "s-forged" })?.impostor, true);
  // The Go MVP sends no session: it cannot displace a bound worker either.
  assertEquals(beat({ region: "evil", leaving: true })?.impostor, true);
  const w1 = registry.get("w1");
  assertEquals([w1?.state, w1?.region, w1?.pool, w1?.left], [
    "online",
    "eu",
    "echo",
    false,
  ]);
  // Nor does a forged beat keep it alive: it goes offline on the real
  // worker's silence, and only then may the id be registered afresh.
  advance(2_500);
  assertEquals(beat({ session: "s-forged" })?.impostor, true);
  advance(1_000);
  assertEquals(registry.get("w1")?.state, "offline");
  assertEquals(beat({ region: "us", session: "s-next" })?.impostor, undefined);
  assertEquals(registry.get("w1")?.region, "us");
});

Deno.test("identity: a worker restarted with the same id after leaving or being forgotten gets in", () => {
  const { registry, advance } = setup();
  const beat = (session: string, leaving = false) =>
    registry.observe(
      create(HeartbeatSchema, {
        workerId: "w1",
        pool: "echo",
        session,
        leaving,
      }),
    );
  beat("s1");
  assertEquals(beat("s1", true)?.worker.state, "offline"); // its own leaving beat
  assertEquals(beat("s2")?.impostor, undefined);
  assertEquals(registry.get("w1")?.state, "online");
  assertEquals(beat("s1")?.impostor, true); // now bound to s2
  advance(20_000);
  registry.tick(); // offline long enough: forgotten
  assertEquals(registry.get("w1"), undefined);
  assertEquals(beat("s3")?.impostor, undefined);
});

Deno.test("identity: a Go-MVP-style beat without session registers a new worker, and any beat updates it", () => {
  const { registry } = setup();
  const beat = (fields: Record<string, unknown>) =>
    registry.observe(
      create(HeartbeatSchema, { workerId: "go-1", pool: "echo", ...fields }),
    );
  assertEquals(beat({ region: "eu" })?.was, undefined);
  assertEquals(registry.get("go-1")?.state, "online");
  assertEquals(beat({ region: "us" })?.impostor, undefined);
  assertEquals(registry.get("go-1")?.region, "us");
  assertEquals(beat({ leaving: true })?.worker.state, "offline");
});
