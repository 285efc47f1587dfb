/**
 * A bulk action's progress on the event stream, read by a real SSE client
 * (the response body of `GET /api/events`, parsed as EventSource does):
 * `bulk` events on the flush timer, many steps coalesced into one, the
 * running actions in a snapshot, and `GET /api/bulk/:id` kept beside them.
 */
import { assertEquals, assertOk, assertStrictEquals } from "../assert.ts";
import { dashboardFixture } from "../dashboard_fixture.ts";
import { SseReader } from "../sse.ts";
import type {
  BulkEvent,
  BulkProgress,
  BulkResponse,
  SnapshotEvent,
} from "../../src/contract/mod.ts";
import { BulkActions, type StepOutcome } from "../../src/scheduler/bulk.ts";

/** Reads events until one of type `bulk`, skipping deltas (a second may close meanwhile). */
async function nextBulk(sse: SseReader): Promise<BulkEvent> {
  for (let i = 0; i < 10; i++) {
    const event = await sse.nextEvent();
    if (event.event === "bulk") {
      const bulk = JSON.parse(event.data) as BulkEvent;
      assertStrictEquals(bulk.type, "bulk");
      return bulk;
    }
    assertStrictEquals(event.event, "delta");
  }
  throw new Error("no bulk event among 10 events");
}

const figures = (p: BulkProgress) => [
  p.state,
  p.matched,
  p.done,
  p.succeeded,
  p.failed,
];

Deno.test("a bulk action's progress is pushed as bulk events: steps coalesced per flush, running ones in the snapshot", async () => {
  using f = dashboardFixture();
  const bulk = new BulkActions({ concurrency: 1, batch: 1000, pauseMs: 0 });
  f.hub.followBulk(bulk);
  // Each step waits until the test lets it end: j2 is refused.
  const gates: (() => void)[] = [];
  const step = (jobId: string) =>
    new Promise<StepOutcome>((resolve) =>
      gates.push(() =>
        resolve(jobId === "j2" ? { ok: false, error: "no" } : { ok: true })
      )
    );
  const release = async (n: number) => {
    for (let i = 0; i < n; i++) {
      gates.shift()!();
      // The lane records the outcome, then takes the next job.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };
  const started = bulk.start("retry", { status: ["FAILED"] }, [
    "j1",
    "j2",
    "j3",
  ], step);

  const res = await f.app.request("/api/events");
  const sse = new SseReader(res.body!);
  try {
    const first = await sse.nextEvent();
    assertStrictEquals(first.event, "snapshot");
    const snapshot = JSON.parse(first.data) as SnapshotEvent;
    assertEquals(snapshot.bulk.map((p) => [p.id, ...figures(p)]), [
      [started.id, "running", 3, 0, 0, 0],
    ]);

    // Its start and two steps: one event at the next flush.
    await release(2);
    f.hub.flush();
    const two = await nextBulk(sse);
    assertEquals(two.actions.map(figures), [["running", 3, 2, 1, 1]]);
    assertEquals(two.actions[0].errors, [{ jobId: "j2", error: "no" }]);

    // Nothing changed: a flush sends no bulk event. The next one is the end.
    f.hub.flush();
    await release(1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assertStrictEquals(bulk.get(started.id)?.state, "finished");
    f.hub.flush();
    const end = await nextBulk(sse);
    assertEquals(end.actions.map(figures), [["finished", 3, 3, 2, 1]]);
    assertOk(end.actions[0].finishedAt !== null);

    // An ended action is not in a snapshot (GET /api/bulk lists it).
    const later = new SseReader((await f.app.request("/api/events")).body!);
    const again = JSON.parse((await later.nextEvent()).data) as SnapshotEvent;
    assertEquals(again.bulk, []);
    await later.cancel();
  } finally {
    await sse.cancel();
  }
});

Deno.test("a bulk action started through POST /api/jobs/bulk is followed on the stream; GET /api/bulk/:id still answers", async () => {
  using f = dashboardFixture();
  for (let i = 0; i < 3; i++) f.submit(`done-${i}`);
  await f.settle();
  const sse = new SseReader((await f.app.request("/api/events")).body!);
  try {
    await sse.nextEvent(); // snapshot
    // A core scheduler refuses a retry of a COMPLETED job: each is refused.
    const res = await f.app.request("/api/jobs/bulk", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        action: "retry",
        filter: { status: ["COMPLETED"] },
        dryRun: false,
      }),
    });
    assertStrictEquals(res.status, 200);
    const started = await res.json() as BulkResponse;
    assertStrictEquals(started.matched, 3);
    const href = started.bulk!.href;
    let progress: BulkProgress | undefined;
    for (let i = 0; i < 100 && progress?.state !== "finished"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      progress = await (await f.app.request(href)).json() as BulkProgress;
    }
    assertEquals(figures(progress!), ["finished", 3, 3, 0, 3]);
    f.hub.flush();
    const event = await nextBulk(sse);
    assertEquals(event.actions, [progress]);
  } finally {
    await sse.cancel();
  }
});
