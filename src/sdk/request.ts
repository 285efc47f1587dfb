/**
 * A job request's packet written straight to bytes: the jobs of one
 * `submit` or `submitMany` call share their sender, topic, priority and
 * attempts, so those are encoded once and each job adds its id, trace id,
 * time and payload. The bytes are those `encodePacket` writes for the same
 * packet (tests/unit/sdk_request_test.ts compares them); `submitMany`
 * sends tens of thousands of jobs a second through here.
 *
 * @module
 */
import { encodePacket, packet, PROTOCOL_VERSION } from "../bus/codec.ts";
import { Slabs } from "../bus/wire/slabs.ts";

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function putVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** A string field (tag and length first), or nothing for "" as protobuf writes it. */
function stringField(field: number, s: string): Uint8Array {
  if (s === "") return EMPTY;
  const bytes = encoder.encode(s);
  const out = new Uint8Array(
    varintSize(field * 8 + 2) + varintSize(bytes.length) + bytes.length,
  );
  let pos = putVarint(out, 0, field * 8 + 2);
  pos = putVarint(out, pos, bytes.length);
  out.set(bytes, pos);
  return out;
}

/** An int32 field, or nothing for 0. */
function int32Field(field: number, v: number): Uint8Array {
  if (v === 0) return EMPTY;
  const out = new Uint8Array(varintSize(field * 8) + varintSize(v));
  putVarint(out, putVarint(out, 0, field * 8), v);
  return out;
}

/** Whether `s` is ASCII: one byte a character in UTF-8. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** What every job of one call shares. */
export interface RequestShape {
  /** The sender id the packets carry. */
  senderId: string;
  /** The jobs' topic. */
  topic: string;
  /** Their priority's wire number, 0 for none. */
  priority: number;
  /** Their attempts in durable mode, 0 for the scheduler's default. */
  maxAttempts: number;
}

/**
 * Writes the packets of jobs shaped like `shape`. A shape the fast path
 * does not cover (a negative or fractional number) goes through
 * `encodePacket`.
 */
export class RequestEncoder {
  readonly #shape: RequestShape;
  readonly #fast: boolean;
  /** sender_id, then the fields of the JobRequest after job_id and before payload. */
  readonly #sender: Uint8Array;
  readonly #middle: Uint8Array;
  readonly #attempts: Uint8Array;
  /** Packets are cut from slabs rather than allocated one by one. */
  readonly #slabs = new Slabs();

  constructor(shape: RequestShape) {
    this.#shape = shape;
    const plain = (v: number) => Number.isInteger(v) && v >= 0 && v < 2 ** 31;
    this.#fast = plain(shape.priority) && plain(shape.maxAttempts);
    this.#sender = stringField(2, shape.senderId);
    const topic = stringField(2, shape.topic);
    const priority = int32Field(3, shape.priority);
    this.#middle = new Uint8Array(topic.length + priority.length);
    this.#middle.set(topic);
    this.#middle.set(priority, topic.length);
    this.#attempts = int32Field(21, shape.maxAttempts);
  }

  /**
   * The packet of job `jobId` with `payload`, made at `nowMs` (epoch ms),
   * its trace id `trace` or the next of a {@linkcode TraceIds}.
   */
  encode(
    jobId: string,
    trace: string | TraceIds,
    payload: Uint8Array,
    nowMs: number = Date.now(),
  ): Uint8Array {
    const counted = typeof trace !== "string";
    if (
      !this.#fast || !Number.isInteger(nowMs) || nowMs < 0 ||
      (!counted && !isAscii(trace))
    ) {
      return this.#slow(jobId, counted ? trace.next() : trace, payload, nowMs);
    }
    const seconds = Math.floor(nowMs / 1000);
    const nanos = (nowMs % 1000) * 1_000_000;
    const time = (seconds > 0 ? 1 + varintSize(seconds) : 0) +
      (nanos > 0 ? 1 + varintSize(nanos) : 0);
    const id = jobId.length > 0
      ? 1 + varintSize(jobId.length) + jobId.length
      : 0;
    const data = payload.length > 0
      ? 2 + varintSize(payload.length) + payload.length
      : 0;
    const request = id + this.#middle.length + data + this.#attempts.length;
    const traceLength = counted ? TRACE_ID_CHARS : trace.length;
    const traceField = traceLength > 0
      ? 1 + varintSize(traceLength) + traceLength
      : 0;
    const size = traceField + this.#sender.length + 1 + varintSize(time) +
      time + 2 + 1 + varintSize(request) + request;
    const buf = this.#slabs.take(size);
    let pos = 0;
    if (counted) pos = trace.write(buf, pos);
    else if (trace.length > 0) pos = ascii(buf, pos, 0x0a, trace);
    buf.set(this.#sender, pos);
    pos += this.#sender.length;
    buf[pos++] = 0x1a; // created_at
    pos = putVarint(buf, pos, time);
    if (seconds > 0) {
      buf[pos++] = 0x08;
      pos = putVarint(buf, pos, seconds);
    }
    if (nanos > 0) {
      buf[pos++] = 0x10;
      pos = putVarint(buf, pos, nanos);
    }
    buf[pos++] = 0x20; // protocol_version
    buf[pos++] = PROTOCOL_VERSION;
    buf[pos++] = 0x52; // job_request
    pos = putVarint(buf, pos, request);
    if (jobId.length > 0) {
      pos = ascii(buf, pos, 0x0a, jobId);
      if (pos < 0) {
        // Not ASCII after all (checked while copying rather than before):
        // the bytes so far are left unused, the trace id read back.
        const traceId = counted
          ? String.fromCharCode(...buf.subarray(2, traceField))
          : trace;
        return this.#slow(jobId, traceId, payload, nowMs);
      }
    }
    buf.set(this.#middle, pos);
    pos += this.#middle.length;
    if (payload.length > 0) {
      buf[pos++] = 0xa2; // payload, field 20
      buf[pos++] = 0x01;
      pos = putVarint(buf, pos, payload.length);
      buf.set(payload, pos);
      pos += payload.length;
    }
    buf.set(this.#attempts, pos);
    return buf;
  }

  #slow(
    jobId: string,
    traceId: string,
    payload: Uint8Array,
    nowMs: number,
  ): Uint8Array {
    const message = packet({
      case: "jobRequest",
      value: {
        $typeName: "cortex.v1.JobRequest",
        jobId,
        topic: this.#shape.topic,
        priority: this.#shape.priority,
        contextPtr: "",
        adapterId: "",
        envVars: {},
        payload,
        maxAttempts: this.#shape.maxAttempts,
        attemptBase: 0,
      },
    }, { senderId: this.#shape.senderId, traceId });
    const ms = Math.floor(nowMs);
    message.createdAt = {
      $typeName: "google.protobuf.Timestamp",
      seconds: BigInt(Math.floor(ms / 1000)),
      nanos: (ms % 1000) * 1_000_000,
    };
    return encodePacket(message);
  }
}

/**
 * An ASCII string field of one-byte tag `tag`, at `pos`; returns the end,
 * or -1 when `s` holds a character outside ASCII (written as one byte
 * here, it takes more in UTF-8).
 */
function ascii(buf: Uint8Array, pos: number, tag: number, s: string): number {
  buf[pos++] = tag;
  pos = putVarint(buf, pos, s.length);
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code > 0x7f) return -1;
    buf[pos++] = code;
  }
  return pos;
}

/** A trace id's characters: 32 hex digits, as W3C trace context writes them. */
const TRACE_ID_CHARS = 32;
/** The hex digits of the count at the end of a counted trace id. */
const COUNT_DIGITS = 12;
const HEX = encoder.encode("0123456789abcdef");

/**
 * Trace ids as a client numbers its jobs: a fixed random prefix of 20 hex
 * digits and a 48-bit count, written into a packet as bytes rather than
 * built as a 32-character string a job.
 */
export class TraceIds {
  /** The trace id field's tag, length and prefix. */
  readonly #head: Uint8Array;
  #count = 0;

  /** `prefix`: 20 hex digits. */
  constructor(prefix: string) {
    if (!/^[0-9a-f]{20}$/.test(prefix)) {
      throw new Error(`a trace id prefix is 20 hex digits, not ${prefix}`);
    }
    this.#head = new Uint8Array([
      0x0a,
      TRACE_ID_CHARS,
      ...encoder.encode(prefix),
    ]);
  }

  /** The next trace id, as a string. */
  next(): string {
    const bytes = new Uint8Array(this.#head.length + COUNT_DIGITS);
    this.write(bytes, 0);
    return String.fromCharCode(...bytes.subarray(2));
  }

  /** Writes the next trace id's field at `pos`; returns its end. */
  write(buf: Uint8Array, pos: number): number {
    buf.set(this.#head, pos);
    const end = pos + this.#head.length + COUNT_DIGITS;
    let n = this.#count++;
    for (let at = end - 1; at >= end - COUNT_DIGITS; at--) {
      buf[at] = HEX[n % 16];
      n = Math.floor(n / 16);
    }
    return end;
  }
}
