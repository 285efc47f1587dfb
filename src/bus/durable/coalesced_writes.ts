/**
 * One socket write per turn of the event loop instead of one per burst of
 * microtasks, for the durable processes' connections.
 *
 * nats.js queues every protocol message in an outbound buffer and writes
 * the buffer out in a microtask. A durable scheduler or worker handles
 * each message it reads through a chain of awaits (a stored write, then an
 * ack), so the buffer is written out after every message or two: strace
 * of a durable scheduler under load counted 15,370 `sendto` against 743
 * successful reads in 8 s, and the socket write was a fifth of its busy
 * time (docs/performance.md). Written out with `setImmediate` instead,
 * everything the messages of one read cause leaves in one write.
 *
 * It changes two methods of nats.js's protocol handler on this connection
 * only (when the buffer is written, and a write before closing); when that handler is not shaped as expected (another nats.js
 * version), it leaves the connection as it is and returns false.
 *
 * @module
 */
import { setImmediate } from "node:timers";

/** The parts of nats.js's (internal) protocol handler used here. */
interface ProtocolHandlerShape {
  outbound: {
    length(): number;
    size(): number;
    fill(data: Uint8Array, ...payloads: (Uint8Array | undefined)[]): unknown;
  };
  pendingLimit: number;
  flushPending(): void;
  close(err?: Error): Promise<void>;
  sendCommand(
    cmd: string | Uint8Array,
    ...payloads: (Uint8Array | undefined)[]
  ): void;
}

function isHandler(value: unknown): value is ProtocolHandlerShape {
  const h = value as Partial<ProtocolHandlerShape> | undefined;
  return typeof h?.sendCommand === "function" &&
    typeof h.flushPending === "function" &&
    typeof h.close === "function" &&
    typeof h.pendingLimit === "number" &&
    typeof h.outbound?.length === "function" &&
    typeof h.outbound?.size === "function" &&
    typeof h.outbound?.fill === "function";
}

const encoder = new TextEncoder();
/** Handlers changed already: a second call (two work queues on one connection) changes nothing. */
const coalesced = new WeakSet<object>();

/**
 * Makes `nc` write its queued protocol messages once per turn of the event
 * loop (once: calling it again changes nothing). Whether it could (false:
 * the connection is left as it was).
 *
 * @example
 * ```ts
 * const nc = await connectBus(config);
 * coalesceWrites(nc);
 * ```
 */
export function coalesceWrites(nc: object): boolean {
  const handler = (nc as { protocol?: unknown }).protocol;
  if (!isHandler(handler)) return false;
  if (coalesced.has(handler)) return true;
  coalesced.add(handler);
  const h = handler;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    h.flushPending();
  };
  // nats.js's own sendCommand, but for when the buffer is written out.
  h.sendCommand = (cmd, ...payloads) => {
    h.outbound.fill(
      typeof cmd === "string" ? encoder.encode(cmd) : cmd,
      ...payloads,
    );
    if (h.outbound.size() >= h.pendingLimit) {
      // A full buffer is written at once, as nats.js does.
      h.flushPending();
    } else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  // What is queued leaves before the connection closes (nats.js's close
  // does not write the buffer out; its microtask had run by then).
  const close = h.close.bind(h);
  h.close = (err) => {
    h.flushPending();
    return close(err);
  };
  return true;
}
