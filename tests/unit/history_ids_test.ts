/**
 * How the history store finds a job by id without an index in its file:
 * the hash table on its own (against a plain list, with hashes made to
 * collide and wrap around), and the store with two ids of one hash and a
 * write that fails.
 */
import { assertEquals, assertStrictEquals, assertThrows } from "../assert.ts";
import { idHash, IdTable } from "../../src/scheduler/history_ids.ts";
import { HistoryStore } from "../../src/scheduler/history_store.ts";
import type { HistoryRow } from "../../src/scheduler/history_rows.ts";

/** The times the table holds for `hash`, sorted. */
function timesOf(table: IdTable, hash: number): number[] {
  const out: number[] = [];
  for (let s = table.first(hash); s >= 0; s = table.next(s)) {
    out.push(table.at(s));
  }
  return out.sort((a, b) => a - b);
}

Deno.test("id table: adds, finds and removes as a plain list does, through collisions, wrap-around and growth", () => {
  const table = new IdTable();
  const slots = table.slots;
  // Few hashes, some homed in the last slots, so chains collide and wrap.
  const hashes = [1, 2, 3, slots - 1, 2 * slots - 1, slots - 2, slots + 1];
  const held: [number, number][] = [];
  let seed = 7;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let step = 0; step < 5000; step++) {
    if (held.length > 0 && random(3) === 0) {
      const [hash, time] = held.splice(random(held.length), 1)[0];
      assertStrictEquals(table.remove(hash, time), true);
    } else {
      const entry: [number, number] = [hashes[random(hashes.length)], step];
      held.push(entry);
      table.add(...entry);
    }
    if (step % 97 === 0 || step > 4900) {
      for (const hash of hashes) {
        const want = held.filter(([h]) => h === hash).map(([, t]) => t);
        assertEquals(timesOf(table, hash), want.sort((a, b) => a - b));
      }
    }
  }
  assertStrictEquals(table.size, held.length);
  assertStrictEquals(table.remove(12345, 1), false);
  // Grown past its first slots (more than 3/4 of them were in use).
  for (let i = 0; i < slots; i++) table.add(idHash(`g-${i}`), i);
  assertEquals(timesOf(table, idHash("g-5")), [5]);
  table.clear();
  assertStrictEquals(table.size, 0);
  assertStrictEquals(table.first(idHash("g-5")), -1);
});

Deno.test("id table: reserved room is not grown past; a moved entry is found at its new time", () => {
  const table = new IdTable();
  table.reserve(10_000);
  const slots = table.slots;
  for (let i = 0; i < 10_000; i++) table.add(idHash(`job-${i}`), i);
  assertStrictEquals(table.slots, slots);
  const s = table.first(idHash("job-42"));
  table.set(s, 4242);
  assertEquals(timesOf(table, idHash("job-42")), [4242]);
  assertStrictEquals(idHash(""), 0x811c9dc5);
});

function row(jobId: string, at: number, error = ""): HistoryRow {
  return {
    summary: {
      jobId,
      topic: "job.echo",
      state: error === "" ? "COMPLETED" : "FAILED",
      priority: "unspecified",
      workerId: "w1",
      executionMs: 1,
      roundTripMs: null,
      submittedAt: at,
      finishedAt: at + 1,
      error,
    },
    text: {
      payload: "",
      output: "",
      workers: null,
      errors: error === ""
        ? null
        : [{ jobId, workerId: "w1", state: "FAILED", error, at }],
    },
  };
}

Deno.test("history store: two ids of one hash are two jobs, each found, updated, moved and dropped on its own; more dropped than held drops all", () => {
  // Found by a search for a collision of idHash among job-0 … job-999999.
  const [a, b] = ["job-439599", "job-622382"];
  assertStrictEquals(idHash(a), idHash(b));
  const store = new HistoryStore();
  store.write([row(a, 100), row(b, 100)]);
  store.write([row(b, 100, "boom")]);
  assertStrictEquals(store.size, 2);
  assertEquals(store.get(a)?.state, "COMPLETED");
  assertEquals(store.get(b)?.state, "FAILED");
  assertEquals(store.attemptErrors(b).map((e) => e.error), ["boom"]);
  assertEquals(store.attemptErrors(a), []);
  // a submitted again later: moved, one row still.
  store.write([row(a, 300, "late")]);
  assertStrictEquals(store.size, 2);
  assertEquals(store.search({}, 10).map((j) => j.jobId), [a, b]);
  store.dropOldest(1);
  assertEquals(store.search({}, 10).map((j) => j.jobId), [a]);
  assertStrictEquals(store.get(b), undefined);
  assertEquals(store.get(a)?.error, "late");
  store.write([row(b, 400)]);
  assertStrictEquals(store.size, 2);
  // More than held: every job goes, and none is found after.
  store.dropOldest(5);
  assertStrictEquals(store.size, 0);
  assertEquals(store.search({}, 10), []);
  assertStrictEquals(store.get(b), undefined);
  store.write([row(b, 500)]);
  assertStrictEquals(store.size, 1);
  store.close();
  assertStrictEquals(store.get(a), undefined);
});

Deno.test("history store: a batch that fails writes nothing and leaves every job findable as before", () => {
  const store = new HistoryStore();
  store.write([row("kept", 1)]);
  assertThrows(
    () =>
      store.write([row("kept", 1, "changed"), row("new", 2), row("bad", NaN)]),
    /NOT NULL|constraint/i,
  );
  assertStrictEquals(store.size, 1);
  assertEquals(store.get("kept")?.error, "");
  assertStrictEquals(store.get("new"), undefined);
  store.write([row("new", 2)]);
  assertStrictEquals(store.size, 2);
  assertEquals(store.search({}, 10).map((j) => j.jobId), ["new", "kept"]);
  store.close();
});
