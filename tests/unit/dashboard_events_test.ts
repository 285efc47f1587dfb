import {
  assertEquals,
  assertMatch,
  assertOk,
  assertStrictEquals,
} from "../assert.ts";
import { dashboardFixture } from "../dashboard_fixture.ts";
import { SseReader } from "../sse.ts";
import type { DeltaEvent, SnapshotEvent } from "../../src/contract/mod.ts";

async function open(
  app: {
    request(path: string, init?: RequestInit): Response | Promise<Response>;
  },
  headers: Record<string, string> = {},
): Promise<SseReader> {
  const res = await app.request("/api/events", { headers });
  assertStrictEquals(res.status, 200);
  assertMatch(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  return new SseReader(res.body!);
}

Deno.test("the stream starts with a snapshot of workers, jobs and counters, then deltas", async () => {
  using f = dashboardFixture();
  f.heartbeat("echo-a");
  f.submit("before-1");
  await f.settle();
  f.hub.flush(); // a delta nobody hears: the snapshot has it all
  const sse = await open(f.app);
  try {
    const first = await sse.nextEvent();
    assertStrictEquals(first.event, "snapshot");
    assertOk(first.id, "every event has an id");
    const snapshot = JSON.parse(first.data) as SnapshotEvent;
    assertEquals(snapshot.workers.map((w) => w.workerId), ["echo-a"]);
    assertEquals(snapshot.jobs.map((j) => [j.jobId, j.state]), [
      ["before-1", "COMPLETED"],
    ]);
    assertStrictEquals(snapshot.counters.completed, 1);
    assertStrictEquals(snapshot.throughput.series.length, 60);

    f.submit("after-1");
    await f.settle();
    f.hub.flush();
    const second = await sse.nextEvent();
    assertStrictEquals(second.event, "delta");
    assertOk(second.id && second.id !== first.id);
    const delta = JSON.parse(second.data) as DeltaEvent;
    assertEquals(delta.jobs.map((j) => [j.jobId, j.state]), [
      ["after-1", "COMPLETED"],
    ]);
    assertStrictEquals(delta.counters.completed, 2);
  } finally {
    await sse.cancel();
  }
});

Deno.test("changes are coalesced: one delta per flush, whatever the job rate", async () => {
  using f = dashboardFixture({ events: { maxJobsPerEvent: 100 } });
  const sse = await open(f.app);
  try {
    await sse.nextEvent(); // snapshot
    for (let i = 0; i < 500; i++) f.submit(`burst-${i}`);
    await f.settle();
    f.hub.flush();
    f.hub.flush(); // nothing changed since: no event
    f.submit("late-1");
    await f.settle();
    f.hub.flush();
    const burst = JSON.parse((await sse.nextEvent()).data) as DeltaEvent;
    // Each job changed three times (admitted, dispatched, completed) and is
    // sent once, in its final state; the delta keeps the latest changed.
    assertStrictEquals(burst.jobs.length, 100);
    assertStrictEquals(burst.jobsOmitted, 400);
    assertStrictEquals(burst.jobs.at(-1)?.jobId, "burst-499");
    assertOk(burst.jobs.every((j) => j.state === "COMPLETED"));
    assertStrictEquals(burst.counters.completed, 500);
    const next = JSON.parse((await sse.nextEvent()).data) as DeltaEvent;
    assertEquals(next.jobs.map((j) => j.jobId), ["late-1"]);
    assertStrictEquals(f.hub.stats().events, 2);
  } finally {
    await sse.cancel();
  }
});

Deno.test("a client reconnecting with Last-Event-ID gets exactly the events it missed", async () => {
  using f = dashboardFixture();
  const sse = await open(f.app);
  const snapshot = await sse.nextEvent();
  f.submit("one");
  await f.settle();
  f.hub.flush();
  const first = await sse.nextEvent();
  await sse.cancel();

  f.submit("two");
  await f.settle();
  f.hub.flush();
  f.heartbeat("echo-b");
  f.hub.flush();

  const resumed = await open(f.app, { "last-event-id": first.id! });
  try {
    const a = await resumed.nextEvent();
    const b = await resumed.nextEvent();
    assertEquals([a.event, b.event], ["delta", "delta"]);
    assertEquals(
      (JSON.parse(a.data) as DeltaEvent).jobs.map((j) => j.jobId),
      ["two"],
    );
    assertEquals(
      (JSON.parse(b.data) as DeltaEvent).workers.map((w) => w.workerId),
      ["echo-b"],
    );
    assertOk(snapshot.id !== a.id && a.id !== b.id);
  } finally {
    await resumed.cancel();
  }
});

Deno.test("a client too far behind, or from another process, gets a fresh snapshot", async () => {
  using f = dashboardFixture({ events: { history: 3 } });
  const sse = await open(f.app);
  await sse.nextEvent();
  f.submit("x-0");
  await f.settle();
  f.hub.flush();
  const old = await sse.nextEvent();
  await sse.cancel();
  for (let i = 1; i <= 5; i++) {
    f.submit(`x-${i}`);
    await f.settle();
    f.hub.flush();
  }
  for (const id of [old.id!, "0000000.3", "garbage"]) {
    const again = await open(f.app, { "last-event-id": id });
    try {
      const e = await again.nextEvent();
      assertStrictEquals(e.event, "snapshot", id);
      const snapshot = JSON.parse(e.data) as SnapshotEvent;
      assertStrictEquals(snapshot.jobs.length, 6);
      assertStrictEquals(e.id, f.hub.lastEventId);
    } finally {
      await again.cancel();
    }
  }
});

Deno.test("resumption keeps at most maxBytes of frames: past them a client gets a snapshot, however few events it missed", async () => {
  // Room for 100 events but only about two deltas' bytes.
  using f = dashboardFixture({ events: { history: 100, maxBytes: 1_500 } });
  const sse = await open(f.app);
  await sse.nextEvent();
  f.submit("y-0");
  await f.settle();
  f.hub.flush();
  const seen = await sse.nextEvent();
  await sse.cancel();
  f.submit("y-1");
  await f.settle();
  f.hub.flush();
  const near = await open(f.app, { "last-event-id": seen.id! });
  try {
    assertStrictEquals((await near.nextEvent()).event, "delta");
  } finally {
    await near.cancel();
  }
  for (let i = 2; i <= 6; i++) {
    f.submit(`y-${i}`);
    await f.settle();
    f.hub.flush();
  }
  const far = await open(f.app, { "last-event-id": seen.id! });
  try {
    assertStrictEquals((await far.nextEvent()).event, "snapshot");
  } finally {
    await far.cancel();
  }
});

Deno.test("a client that never reads does not stall the others; it is resynced, not buffered forever", async () => {
  using f = dashboardFixture({ events: { clientQueue: 4 } });
  const stuck = await f.app.request("/api/events"); // never read
  const live = await open(f.app);
  try {
    await live.nextEvent(); // snapshot
    const rounds = 40;
    for (let i = 0; i < rounds; i++) {
      f.submit(`job-${i}`);
      await f.settle();
      f.hub.flush();
      const e = await live.nextEvent();
      assertEquals(
        (JSON.parse(e.data) as DeltaEvent).jobs.map((j) => j.jobId),
        [`job-${i}`],
      );
    }
    assertOk(f.hub.stats().resyncs >= 1, "the stuck client overflowed");
    assertStrictEquals(f.hub.stats().clients, 2);

    // When it finally reads: what the stream buffered, then a snapshot
    // with everything, then live deltas again.
    const late = new SseReader(stuck.body!);
    assertStrictEquals((await late.nextEvent()).event, "snapshot"); // its first
    let event = await late.nextEvent();
    let buffered = 0;
    while (event.event !== "snapshot") {
      buffered++;
      event = await late.nextEvent();
    }
    assertOk(buffered < rounds, `only a bounded backlog (${buffered})`);
    const snapshot = JSON.parse(event.data) as SnapshotEvent;
    assertStrictEquals(snapshot.jobs.length, rounds);
    await late.cancel();
  } finally {
    await live.cancel();
  }
});

Deno.test("disconnected clients are removed", async () => {
  using f = dashboardFixture();
  const a = await open(f.app);
  const b = await open(f.app);
  assertStrictEquals(f.hub.stats().clients, 2);
  await a.cancel();
  assertStrictEquals(f.hub.stats().clients, 1);
  await b.cancel();
  assertStrictEquals(f.hub.stats().clients, 0);
});

Deno.test("idle streams get keep-alive comments", async () => {
  using f = dashboardFixture({ events: { keepAliveMs: 20 } });
  const sse = await open(f.app);
  try {
    await sse.nextEvent(); // snapshot
    const comment = await sse.next();
    assertStrictEquals(comment.comment, "keep-alive");
  } finally {
    await sse.cancel();
  }
});

Deno.test("closing the hub ends every stream", async () => {
  using f = dashboardFixture();
  const sse = await open(f.app);
  await sse.nextEvent();
  f.hub.close();
  let ended = false;
  try {
    await sse.next(2_000);
  } catch (error) {
    ended = String(error).includes("ended");
  }
  assertOk(ended, "the stream ended");
  assertStrictEquals(f.hub.stats().clients, 0);
});
