/**
 * A hand-written encoder for `cortex.v1.BusPacket`, byte for byte what
 * protobuf-es `toBinary` writes (fields in number order, proto3 defaults
 * left out, map entries with key and value), without its per-field
 * reflection. Every worker result and every packet the scheduler writes goes
 * through it, so it is on the hot path; `toBinary` stays the reference
 * (the unit tests compare the two) and the fallback for anything unusual.
 *
 * @module
 */
import type {
  BusPacket,
  Heartbeat,
  JobRequest,
  JobResult,
  SystemAlert,
} from "../messages.ts";
import { Slabs } from "./slabs.ts";

const LEN = 2;
const VARINT = 0;
const FIXED32 = 5;

const encoder = new TextEncoder();
const f32 = new DataView(new ArrayBuffer(4));

/** Thrown inside the writer when a message needs the generic encoder. */
class Unsupported extends Error {}

/** A growable byte buffer, reused between packets (this is single-threaded). */
class Writer {
  buf = new Uint8Array(1024);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  varint(v: number): void {
    // v is a non-negative integer below 2^53.
    this.ensure(10);
    while (v > 0x7f) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  bigVarint(v: bigint): void {
    // v is an unsigned 64-bit value.
    this.ensure(10);
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** An int32 or enum value (negative ones take ten bytes, as in protobuf). */
  int32(v: number): void {
    if (v >= 0) this.varint(v);
    else this.bigVarint(BigInt.asUintN(64, BigInt(v)));
  }

  int64(v: bigint): void {
    // Timestamps and durations fit in 2^53: skip the BigInt arithmetic.
    if (v >= 0n && v <= 0x1fffffffffffffn) this.varint(Number(v));
    else this.bigVarint(BigInt.asUintN(64, v));
  }

  /**
   * A string's UTF-8 bytes, length first. Copied code by code in one pass,
   * as ASCII (the ids and names of the hot path are); at the first code
   * that is not, written again by the `TextEncoder`.
   */
  string(s: string): void {
    const n = s.length;
    const from = this.pos;
    this.varint(n);
    this.ensure(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      const code = s.charCodeAt(i);
      if (code > 0x7f) {
        this.pos = from;
        this.bytes(encoder.encode(s));
        return;
      }
      buf[pos++] = code;
    }
    this.pos = pos;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  float(v: number): void {
    f32.setFloat32(0, v, true);
    this.ensure(4);
    for (let i = 0; i < 4; i++) this.buf[this.pos++] = f32.getUint8(i);
  }

  /** Starts a length-delimited field; returns where its content starts. */
  fork(field: number): number {
    this.tag(field, LEN);
    this.ensure(1);
    this.pos++; // one byte for the length, moved along if it needs more
    return this.pos;
  }

  /** Ends the field started by {@linkcode Writer.fork}. */
  join(start: number): void {
    const len = this.pos - start;
    let size = 1;
    for (let v = len; v > 0x7f; v = Math.floor(v / 0x80)) size++;
    if (size > 1) {
      this.ensure(size - 1);
      this.buf.copyWithin(start + size - 1, start, this.pos);
      this.pos += size - 1;
    }
    let at = start - 1;
    let v = len;
    while (v > 0x7f) {
      this.buf[at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[at] = v;
  }
}

const w = new Writer();

function noUnknown(message: { $unknown?: unknown[] }): void {
  if (message.$unknown !== undefined && message.$unknown.length > 0) {
    throw new Unsupported();
  }
}

function str(field: number, v: string): void {
  if (v === "") return;
  w.tag(field, LEN);
  w.string(v);
}

function enumOrInt32(field: number, v: number): void {
  if (v === 0) return;
  w.tag(field, VARINT);
  w.int32(v);
}

function float(field: number, v: number): void {
  if (Object.is(v, 0)) return; // -0 is written, as protobuf-es does

  w.tag(field, FIXED32);
  w.float(v);
}

function bytes(field: number, v: Uint8Array): void {
  if (v.length === 0) return;
  w.tag(field, LEN);
  w.bytes(v);
}

function jobRequest(m: JobRequest): void {
  noUnknown(m);
  str(1, m.jobId);
  str(2, m.topic);
  enumOrInt32(3, m.priority);
  str(4, m.contextPtr);
  str(5, m.adapterId);
  for (const key of Object.keys(m.envVars)) {
    const start = w.fork(6);
    w.tag(1, LEN);
    w.string(key);
    w.tag(2, LEN);
    w.string(m.envVars[key]);
    w.join(start);
  }
  bytes(20, m.payload);
  enumOrInt32(21, m.maxAttempts);
  enumOrInt32(22, m.attemptBase);
}

function jobResult(m: JobResult): void {
  noUnknown(m);
  str(1, m.jobId);
  enumOrInt32(2, m.status);
  str(3, m.resultPtr);
  str(4, m.workerId);
  if (m.executionMs !== 0n) {
    w.tag(5, VARINT);
    w.int64(m.executionMs);
  }
  bytes(20, m.output);
  str(21, m.error);
  enumOrInt32(22, m.attempts);
}

function heartbeat(m: Heartbeat): void {
  noUnknown(m);
  str(1, m.workerId);
  str(2, m.region);
  str(3, m.type);
  float(4, m.cpuLoad);
  float(5, m.gpuUtilization);
  enumOrInt32(6, m.activeJobs);
  for (const capability of m.capabilities) {
    w.tag(7, LEN);
    w.string(capability);
  }
  str(11, m.pool);
  enumOrInt32(12, m.maxParallelJobs);
  bool(20, m.leaving);
  bool(21, m.durable);
  str(22, m.session);
}

function bool(field: number, v: boolean): void {
  if (!v) return;
  w.tag(field, VARINT);
  w.varint(1);
}

function alert(m: SystemAlert): void {
  noUnknown(m);
  str(1, m.level);
  str(2, m.message);
  str(3, m.component);
}

function busPacket(m: BusPacket): void {
  noUnknown(m);
  str(1, m.traceId);
  str(2, m.senderId);
  const ts = m.createdAt;
  if (ts !== undefined) {
    noUnknown(ts);
    const start = w.fork(3);
    if (ts.seconds !== 0n) {
      w.tag(1, VARINT);
      w.int64(ts.seconds);
    }
    enumOrInt32(2, ts.nanos);
    w.join(start);
  }
  if (m.protocolVersion !== 0) {
    w.tag(4, VARINT);
    w.varint(m.protocolVersion);
  }
  const payload = m.payload;
  switch (payload.case) {
    case undefined:
      return;
    case "jobRequest": {
      const start = w.fork(10);
      jobRequest(payload.value);
      w.join(start);
      return;
    }
    case "jobResult": {
      const start = w.fork(11);
      jobResult(payload.value);
      w.join(start);
      return;
    }
    case "heartbeat": {
      const start = w.fork(12);
      heartbeat(payload.value);
      w.join(start);
      return;
    }
    case "alert": {
      const start = w.fork(13);
      alert(payload.value);
      w.join(start);
      return;
    }
    default:
      throw new Unsupported();
  }
}

/**
 * The wire bytes of `message`, as `toBinary(BusPacketSchema, message)`
 * would write them, or `undefined` when the message holds something this
 * writer leaves to the generic encoder (unknown fields).
 *
 * @example
 * ```ts
 * const bytes = writePacket(message) ?? toBinary(BusPacketSchema, message);
 * ```
 */
export function writePacket(message: BusPacket): Uint8Array | undefined {
  if (!written(message)) return undefined;
  return w.buf.slice(0, w.pos);
}

/** Writes `message` into the writer; false when it needs the generic encoder. */
function written(message: BusPacket): boolean {
  w.pos = 0;
  try {
    busPacket(message);
  } catch (error) {
    if (error instanceof Unsupported) return false;
    throw error;
  }
  return true;
}

/** Where {@linkcode writeSharedPacket}'s bytes are cut from. */
const shared = new Slabs();

/**
 * As {@linkcode writePacket}, but the bytes are a view of a slab that
 * later packets share ({@linkcode Slabs}): one array per slab rather than
 * per packet, which costs the worker a sizeable part of a job (an
 * `ArrayBuffer` is slow to make). Holding the bytes holds their slab, so
 * this is for bytes handed straight to the connection (`NatsBus.publish`),
 * not kept.
 */
export function writeSharedPacket(message: BusPacket): Uint8Array | undefined {
  if (!written(message)) return undefined;
  const bytes = shared.take(w.pos);
  bytes.set(w.buf.subarray(0, w.pos));
  return bytes;
}
