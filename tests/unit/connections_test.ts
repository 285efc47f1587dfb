/**
 * The connection lines of a process's log, read back: which node each
 * process is on, and how long each took to reconnect after a given time.
 */
import {
  connectedTo,
  type ConnectionEvent,
  loggedAt,
  reconnectsAfter,
  watchConnection,
} from "../../scripts/support/connections.ts";
import { assertEquals } from "../assert.ts";

Deno.test("loggedAt: a line's own UTC time of day, on the day it came", () => {
  const arrival = Date.UTC(2026, 11, 2, 6, 30, 0, 500);
  assertEquals(
    loggedAt("06:29:59.950 [INF] x: reconnected", arrival),
    Date.UTC(2026, 11, 2, 6, 29, 59, 950),
  );
  // Across midnight: stamped just before, read just after.
  assertEquals(
    loggedAt("23:59:59.990 [INF] x", Date.UTC(2026, 11, 3, 0, 0, 0, 10)),
    Date.UTC(2026, 11, 2, 23, 59, 59, 990),
  );
  // No stamp, or one over a minute older: the arrival.
  assertEquals(loggedAt("reconnected to NATS at a:1", arrival), arrival);
  assertEquals(loggedAt("06:20:00.000 [INF] x", arrival), arrival);
});

Deno.test("connection lines: who is on which node, and reconnect times", () => {
  const events: ConnectionEvent[] = [];
  const scheduler = watchConnection("scheduler", events);
  const worker = watchConnection("worker", events);
  const now = Date.now();
  const stamp = (ms: number) => new Date(ms).toISOString().slice(11, 23);
  scheduler(
    `${stamp(now - 5_000)} [INF] s: connected to NATS at 127.0.0.1:4222 as s`,
  );
  worker(
    `${stamp(now - 5_000)} [INF] w: connected to NATS at 127.0.0.1:4223 as w`,
  );
  worker("a line about something else");
  assertEquals(
    connectedTo(events),
    new Map([[4222, ["scheduler"]], [4223, ["worker"]]]),
  );
  worker(
    `${
      stamp(now - 1_000)
    } [WRN] w: disconnected from NATS at 127.0.0.1:4223; reconnecting`,
  );
  worker(`${stamp(now - 960)} [INF] w: reconnected to NATS at 127.0.0.1:4222`);
  assertEquals(connectedTo(events), new Map([[4222, ["scheduler", "worker"]]]));
  assertEquals(reconnectsAfter(events, now - 1_010), new Map([["worker", 50]]));
  // A process that lost its connection and has not reconnected.
  scheduler(
    `${
      stamp(now - 500)
    } [WRN] s: disconnected from NATS at 127.0.0.1:4222; reconnecting`,
  );
  assertEquals(
    reconnectsAfter(events, now - 1_010),
    new Map([["worker", 50], ["scheduler", undefined]]),
  );
  // Nothing lost after `from`.
  assertEquals(reconnectsAfter(events, now - 100).size, 0);
});
