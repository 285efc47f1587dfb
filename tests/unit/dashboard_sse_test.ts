import { assertEquals, assertStrictEquals, assertThrows } from "../assert.ts";
import { ClientStream } from "../../src/dashboard/client_stream.ts";
import {
  SSE_HELLO,
  SSE_KEEP_ALIVE,
  sseFrame,
  sseResponse,
} from "../../src/dashboard/sse.ts";

const decoder = new TextDecoder();
const text = (bytes: Uint8Array) => decoder.decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("sse: an event is id, event and data lines, then a blank line", () => {
  assertStrictEquals(
    text(sseFrame({ id: "ab.7", event: "delta", data: '{"n":1}' })),
    'id: ab.7\nevent: delta\ndata: {"n":1}\n\n',
  );
  assertStrictEquals(text(sseFrame({ data: "x" })), "data: x\n\n");
});

Deno.test("sse: each line of the data gets its own data: line", () => {
  assertStrictEquals(
    text(sseFrame({ event: "note", data: "one\ntwo\r\nthree\rfour" })),
    "event: note\ndata: one\ndata: two\ndata: three\ndata: four\n\n",
  );
});

Deno.test("sse: a line break in an id or event type is refused, not sent", () => {
  for (const bad of ["a\nb", "a\rb", "a\r\n"]) {
    assertThrows(() => sseFrame({ id: bad, data: "x" }), /id.*line break/);
    assertThrows(
      () => sseFrame({ event: bad, data: "x" }),
      /event.*line break/,
    );
  }
});

Deno.test("sse: hello sets the retry delay; keep-alive is a comment", async () => {
  assertStrictEquals(text(SSE_HELLO), "retry: 2000\n: connected\n\n");
  assertStrictEquals(text(SSE_KEEP_ALIVE), ": keep-alive\n\n");
  const res = sseResponse(ReadableStream.from([SSE_HELLO]));
  assertStrictEquals(
    res.headers.get("content-type"),
    "text/event-stream; charset=utf-8",
  );
  assertStrictEquals(
    res.headers.get("cache-control"),
    "no-cache, no-transform",
  );
  assertStrictEquals(res.headers.get("x-accel-buffering"), "no");
  assertStrictEquals(await res.text(), text(SSE_HELLO));
});

/** A client stream over string frames, with what its hooks were told. */
function client(limit: number, first: string[] = [], limitBytes?: number) {
  const seen = { resyncs: 0, closed: 0, snapshots: 0 };
  const stream = new ClientStream({
    limit,
    limitBytes,
    first: first.map(bytes),
    snapshot: () => bytes(`snapshot ${++seen.snapshots}`),
    resynced: () => seen.resyncs++,
    closed: () => seen.closed++,
  });
  const reader = stream.stream.getReader();
  const read = async () => {
    const { value, done } = await reader.read();
    return done ? "(end)" : text(value);
  };
  return { stream, reader, read, seen };
}

Deno.test("client stream: the first frames, then what is sent, in order", async () => {
  const c = client(4, ["hello", "catch-up"]);
  c.stream.send(bytes("one"));
  c.stream.send(bytes("two"));
  for (const expected of ["hello", "catch-up", "one", "two"]) {
    assertStrictEquals(await c.read(), expected);
  }
  assertStrictEquals(c.seen.resyncs, 0);
  c.stream.close();
  assertStrictEquals(await c.read(), "(end)");
});

Deno.test("client stream: a reader that falls behind gets a snapshot instead of the backlog", async () => {
  const c = client(2);
  // The response stream buffers 8 frames; past that they queue, and the
  // third one queued overflows the limit of 2.
  for (let i = 1; i <= 11; i++) c.stream.send(bytes(`f${i}`));
  assertStrictEquals(c.seen.resyncs, 1);
  assertStrictEquals(c.seen.snapshots, 0, "the snapshot is made when read");
  c.stream.send(bytes("f12")); // already owed a snapshot: not queued
  const got = [];
  for (let i = 0; i < 9; i++) got.push(await c.read());
  assertEquals(got, [
    "f1",
    "f2",
    "f3",
    "f4",
    "f5",
    "f6",
    "f7",
    "f8",
    "snapshot 1",
  ]);
  c.stream.send(bytes("f13"));
  assertStrictEquals(await c.read(), "f13");
  assertStrictEquals(c.seen.resyncs, 1);
  c.stream.close();
});

Deno.test("client stream: a backlog past its byte bound is dropped for a snapshot, however few frames it holds", async () => {
  // Room for 100 frames, but only 2,500 bytes: megabyte deltas (thousands
  // of workers changing) must not pile up 100 deep.
  const c = client(100, [], 2_500);
  const big = (i: number) => `f${i}`.padEnd(1_000, ".");
  // 8 frames go into the response stream's buffer; the next ones queue.
  for (let i = 1; i <= 10; i++) c.stream.send(bytes(big(i)));
  assertStrictEquals(c.seen.resyncs, 0, "2,000 bytes queued: within");
  c.stream.send(bytes(big(11)));
  assertStrictEquals(c.seen.resyncs, 1, "3,000 bytes queued: over");
  const got = [];
  for (let i = 0; i < 9; i++) got.push((await c.read()).slice(0, 10));
  assertStrictEquals(got[8], "snapshot 1");
  // Reading drained the queue's byte count too: new frames queue again.
  c.stream.send(bytes(big(12)));
  assertStrictEquals((await c.read()).slice(0, 3), "f12");
  assertStrictEquals(c.seen.resyncs, 1);
  c.stream.close();
});

Deno.test("client stream: cancelling the body closes it once, and later sends are dropped", async () => {
  const c = client(4, ["hello"]);
  await c.reader.cancel();
  assertStrictEquals(c.seen.closed, 1);
  c.stream.send(bytes("late"));
  c.stream.close();
  assertStrictEquals(c.seen.closed, 1);
});
