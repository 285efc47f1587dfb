/**
 * Processes' NATS connections, as their logs tell them
 * (`src/bus/connect.ts` logs each connect, disconnect and reconnect): which
 * node each is on, and how long each took to reconnect after a node kill.
 *
 * @module
 */

/** A process's log line about its NATS connection. */
export interface ConnectionEvent {
  /** The process, by the name its watcher was given. */
  process: string;
  kind: "connected" | "disconnected" | "reconnected";
  /** The port of the server the line names. */
  port: number;
  /**
   * When it happened, epoch ms: the time the line itself starts with
   * (`HH:MM:SS.mmm`, UTC, as `src/log.ts`'s text format writes it), or
   * when it came when it has none. The line's own time is the process's:
   * a busy reader may get the line a good while later.
   */
  at: number;
}

const CONNECTION_LINE =
  /\b(connected|disconnected|reconnected) (?:to|from) NATS at \S*?:(\d+)/;
const STAMP = /^(\d{2}):(\d{2}):(\d{2})\.(\d{3}) /;
const DAY_MS = 86_400_000;

/**
 * The epoch ms of a line that came at `arrival` (epoch ms): the last
 * instant at or before it whose UTC time of day is the line's stamp, or
 * `arrival` when the line has none or it is over a minute older.
 */
export function loggedAt(line: string, arrival: number): number {
  const m = STAMP.exec(line);
  if (!m) return arrival;
  const [h, min, s, ms] = m.slice(1).map(Number);
  const stamp = ((h * 60 + min) * 60 + s) * 1000 + ms;
  const back = ((arrival % DAY_MS - stamp) % DAY_MS + DAY_MS) % DAY_MS;
  return back <= 60_000 ? arrival - back : arrival;
}

/** A line handler recording `process`'s connection lines into `events` as they come. */
export function watchConnection(
  process: string,
  events: ConnectionEvent[],
): (line: string) => void {
  return (line) => {
    const m = CONNECTION_LINE.exec(line);
    if (!m) return;
    events.push({
      process,
      kind: m[1] as ConnectionEvent["kind"],
      port: Number(m[2]),
      at: loggedAt(line, Date.now()),
    });
  };
}

/** The processes connected to each server, by its port, after `events`. */
export function connectedTo(
  events: readonly ConnectionEvent[],
): Map<number, string[]> {
  const now = new Map<string, number>();
  for (const e of events) {
    if (e.kind === "disconnected") now.delete(e.process);
    else now.set(e.process, e.port);
  }
  const out = new Map<number, string[]>();
  for (const [process, port] of now) {
    out.set(port, [...out.get(port) ?? [], process]);
  }
  return out;
}

/**
 * For each process that lost its connection at or after `from` (epoch
 * ms), the ms from `from` to its reconnection (`undefined`: not
 * reconnected).
 *
 * @example
 * ```ts
 * reconnectsAfter([
 *   { process: "worker1", kind: "disconnected", port: 4223, at: 1_002 },
 *   { process: "worker1", kind: "reconnected", port: 4222, at: 1_030 },
 * ], 1_000); // Map { "worker1" => 30 }
 * ```
 */
export function reconnectsAfter(
  events: readonly ConnectionEvent[],
  from: number,
): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  for (const e of events) {
    if (e.at < from) continue;
    if (e.kind === "disconnected" && !out.has(e.process)) {
      out.set(e.process, undefined);
    } else if (
      e.kind === "reconnected" && out.has(e.process) &&
      out.get(e.process) === undefined
    ) out.set(e.process, e.at - from);
  }
  return out;
}
