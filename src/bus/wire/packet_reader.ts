// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * A hand-written decoder for `cortex.v1.BusPacket`, producing the same
 * messages protobuf-es `fromBinary` does (same fields, defaults, key order,
 * `bytes` as views into the input) without its per-field reflection. Every
 * packet the scheduler and the workers receive goes through it.
 *
 * It reads the canonical encoding only; anything else (unknown fields, a
 * field with an unexpected wire type, a message field given twice, invalid
 * UTF-8, truncated bytes) is left to `fromBinary`, which stays the
 * reference: the unit tests compare the two.
 *
 * One exception, for hostile input: a job's id or topic (and a result's job
 * id) longer than any scheduler accepts is not decoded whole. Its length
 * is on the wire before its bytes, so the reader keeps only the clipped
 * form the scheduler would keep anyway (see `clipped` in
 * `src/scheduler/validation.ts`) and notes the size for
 * {@linkcode wireSize}: a 100 KB id costs its packet's bytes, not a 100 KB
 * string besides.
 *
 * And a packet cannot buy much work per byte: a heartbeat listing more than
 * {@linkcode MAX_WIRE_CAPABILITIES} capabilities, or a packet left to
 * `fromBinary` with more than {@linkcode MAX_FALLBACK_FIELDS} fields, is
 * refused with a {@linkcode WireLimitError} instead of decoded. Measured
 * before these bounds (a loop over `decodePacket` in one process): a 1 MB
 * packet of 333,000 three-byte unknown fields took 99 ms and ~50 MB of
 * transient heap, one of 500,000 empty capabilities 32 ms, where a 1 MB
 * string takes 1 ms.
 *
 * @module
 */
import type { Timestamp } from "npm:@bufbuild/protobuf@^2.17.0/wkt";
import { MAX_SUBJECT_BYTES } from "../subjects.ts";
import type {
  BusPacket,
  Heartbeat,
  JobRequest,
  JobResult,
  SystemAlert,
} from "../messages.ts";

/**
 * Bytes over a bound the reader enforces before decoding them (see the
 * module's notes): the packet is refused, not decoded.
 */
export class WireLimitError extends Error {
  /** Always `"WireLimitError"`. */
  override name = "WireLimitError";
}

/**
 * The most capabilities a heartbeat may list and still be read: 16 times
 * the 64 the scheduler accepts (`HEARTBEAT_LIMITS`), so a heartbeat over
 * that limit is still read and refused for it, with its count, but 500,000
 * empty ones are not turned into an array first.
 */
export const MAX_WIRE_CAPABILITIES = 1024;

/**
 * The most fields (counted through every message inside, a map's entries
 * and a repeated field's elements one each) of a packet this reader leaves
 * to `fromBinary` (one with fields this version does not know, or a
 * non-canonical encoding). `fromBinary` spends ~0.3 µs and an object on
 * each unknown field: past this bound the packet is refused instead. A
 * packet this version knows whole is read here whatever its count.
 */
export const MAX_FALLBACK_FIELDS = 1024;

/** Thrown inside the reader when `fromBinary` must decide. */
class Fallback extends Error {}
const FALLBACK = new Fallback();

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const f32 = new DataView(new ArrayBuffer(4));

/**
 * The default of every absent `bytes` field. One shared instance: a zero-length
 * array has no contents to change, and allocating a typed array costs about
 * as much as decoding a whole small packet here.
 */
const EMPTY = new Uint8Array(0);
let buf: Uint8Array = EMPTY;
let pos = 0;

function varint(): number {
  // Up to 2^53 exactly; longer varints are left to fromBinary.
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (pos >= buf.length) throw FALLBACK;
    const b = buf[pos++];
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 0x80;
  }
  throw FALLBACK;
}

/** A varint as the low 32 bits, as protobuf's int32/enum/uint32 read it. */
function varint32(): number {
  let lo = 0;
  let shift = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw FALLBACK;
    const b = buf[pos++];
    if (shift < 32) lo |= (b & 0x7f) << shift;
    shift += 7;
    if (b < 0x80) return lo;
  }
  throw FALLBACK;
}

function int64(): bigint {
  const start = pos;
  let small = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    if (pos >= buf.length) throw FALLBACK;
    const b = buf[pos++];
    small += (b & 0x7f) * scale;
    if (b < 0x80) return BigInt(small);
    scale *= 0x80;
  }
  // Eight bytes or more: read the full 64 bits as a two's complement value.
  pos = start;
  let v = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw FALLBACK;
    const b = buf[pos++];
    v |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if (b < 0x80) return BigInt.asIntN(64, v);
  }
  throw FALLBACK;
}

function length(): number {
  const len = varint();
  if (pos + len > buf.length) throw FALLBACK;
  return len;
}

function string(): string {
  return stringOf(length());
}

/** Longest string built from character codes rather than decoded. */
const SHORT_STRING = 64;

/**
 * One array of character codes per length up to {@linkcode SHORT_STRING},
 * filled and spent within one call: a fresh array per string (about 350
 * bytes for a 32-character trace id, with the copy `apply` made of it)
 * was most of what decoding a packet allocated. An array of the exact
 * length: changing one array's length was slower than a fresh one.
 */
const CODES: number[][] = Array.from(
  { length: SHORT_STRING + 1 },
  (_, len) => new Array<number>(len).fill(0),
);

/** The string of the next `len` bytes, whose length was just read. */
function stringOf(len: number): string {
  const start = pos;
  pos += len;
  if (len <= SHORT_STRING) {
    // Build the string in one go: concatenating characters would leave a
    // tree of cons strings behind every id the job table keeps.
    const codes = CODES[len];
    for (let i = 0; i < len; i++) {
      const b = buf[start + i];
      if (b > 0x7f) return utf8(start);
      codes[i] = b;
    }
    return String.fromCharCode.apply(String, codes);
  }
  return utf8(start);
}

/** {@linkcode repeatedString}'s slots: the fields whose last string is kept. */
const SENDER = 0, TOPIC = 1;
/** The last ASCII string read for each slot. */
const lastStrings = ["", ""];

/**
 * The string of the next `len` bytes, whose length was just read, for a
 * field that repeats from packet to packet (a sender's id, a topic): the
 * same bytes as last time give the same string, not a new one. Fewer
 * strings to make, and fewer kept: the job table holds each job's topic
 * and submitter. Only ASCII strings are kept, so a match is byte for
 * code, and bytes that are not UTF-8 never match.
 */
function repeatedString(len: number, slot: number): string {
  const last = lastStrings[slot];
  if (len === last.length) {
    let i = 0;
    while (i < len && buf[pos + i] === last.charCodeAt(i)) i++;
    if (i === len) {
      pos += len;
      return last;
    }
  }
  const read = stringOf(len);
  // As many codes as bytes: ASCII (UTF-8 takes more bytes for any other).
  if (len <= SHORT_STRING && read.length === len) lastStrings[slot] = read;
  return read;
}

/**
 * The longest job id the reader decodes whole: 64 KiB, the most
 * `CORTEX_MAX_JOB_ID_BYTES` allows, so no id a scheduler could accept is
 * ever clipped. Topics are clipped past `MAX_SUBJECT_BYTES`, which no
 * configuration raises.
 */
export const MAX_WIRE_JOB_ID_BYTES = 64 * 1024;

/** How much of a field over its bound is kept, as `clipped` keeps it. */
const KEPT_BYTES = 64;

/** The sizes on the wire of the fields the reader clipped, by message. */
const clippedSizes = new WeakMap<object, { jobId?: number; topic?: number }>();

/**
 * A string field of `max` bytes at most, or, past that, its first 64 bytes
 * (whole characters) and its size, `"abc…(100002 bytes)"`, exactly as
 * `clipped` in `src/scheduler/validation.ts` would cut the whole string.
 * The rest is skipped unread: its UTF-8 is not checked, since a field that
 * long is refused whatever it holds.
 */
function boundedString(
  max: number,
  message: object,
  field: "jobId" | "topic",
): string {
  const len = length();
  if (len <= max) {
    return field === "topic" ? repeatedString(len, TOPIC) : stringOf(len);
  }
  const start = pos;
  pos += len;
  let end = KEPT_BYTES;
  while (end > 0 && (buf[start + end] & 0xc0) === 0x80) end--; // whole characters
  const head = lenientUtf8.decode(buf.subarray(start, start + end));
  const sizes = clippedSizes.get(message) ?? {};
  sizes[field] = len;
  clippedSizes.set(message, sizes);
  return `${head}…(${len} bytes)`;
}

/**
 * The size on the wire, in bytes, of `message`'s `field` when
 * {@linkcode readPacket} clipped it for being longer than any scheduler
 * accepts ({@linkcode MAX_WIRE_JOB_ID_BYTES} for an id,
 * `MAX_SUBJECT_BYTES` for a topic); `undefined` when the field is whole.
 * Validation reads it to refuse the field for its real size.
 *
 * @example
 * ```ts
 * const job = readPacket(bytes)?.payload.value as JobRequest;
 * wireSize(job, "jobId"); // 100002 for a 100 KB id, undefined for "job-1"
 * ```
 */
export function wireSize(
  message: JobRequest | JobResult,
  field: "jobId" | "topic",
): number | undefined {
  return clippedSizes.get(message)?.[field];
}

function utf8(start: number): string {
  try {
    return strictUtf8.decode(buf.subarray(start, pos));
  } catch {
    throw FALLBACK;
  }
}

function bytes(): Uint8Array {
  const len = length();
  const start = pos;
  pos += len;
  return buf.subarray(start, pos);
}

function float(): number {
  if (pos + 4 > buf.length) throw FALLBACK;
  for (let i = 0; i < 4; i++) f32.setUint8(i, buf[pos++]);
  return f32.getFloat32(0, true);
}

/** The next tag's field number, having checked its wire type is `wire`. */
function expect(tag: number, wire: number): void {
  if ((tag & 7) !== wire) throw FALLBACK;
}

function jobRequest(end: number): JobRequest {
  const m: JobRequest = {
    $typeName: "cortex.v1.JobRequest",
    jobId: "",
    topic: "",
    priority: 0,
    contextPtr: "",
    adapterId: "",
    envVars: {},
    payload: EMPTY,
    maxAttempts: 0,
    attemptBase: 0,
  };
  while (pos < end) {
    const tag = varint();
    switch (tag >>> 3) {
      case 1:
        expect(tag, 2);
        m.jobId = boundedString(MAX_WIRE_JOB_ID_BYTES, m, "jobId");
        break;
      case 2:
        expect(tag, 2);
        m.topic = boundedString(MAX_SUBJECT_BYTES, m, "topic");
        break;
      case 3:
        expect(tag, 0);
        m.priority = varint32();
        break;
      case 4:
        expect(tag, 2);
        m.contextPtr = string();
        break;
      case 5:
        expect(tag, 2);
        m.adapterId = string();
        break;
      case 6: {
        expect(tag, 2);
        const entryLength = length();
        const entryEnd = pos + entryLength;
        let key = "";
        let value = "";
        while (pos < entryEnd) {
          const t = varint();
          expect(t, 2);
          if (t >>> 3 === 1) key = string();
          else if (t >>> 3 === 2) value = string();
          else throw FALLBACK;
        }
        if (pos !== entryEnd) throw FALLBACK;
        m.envVars[key] = value;
        break;
      }
      case 20:
        expect(tag, 2);
        m.payload = bytes();
        break;
      case 21:
        expect(tag, 0);
        m.maxAttempts = varint32();
        break;
      case 22:
        expect(tag, 0);
        m.attemptBase = varint32();
        break;
      default:
        throw FALLBACK;
    }
  }
  return m;
}

function jobResult(end: number): JobResult {
  const m: JobResult = {
    $typeName: "cortex.v1.JobResult",
    jobId: "",
    status: 0,
    resultPtr: "",
    workerId: "",
    executionMs: 0n,
    output: EMPTY,
    error: "",
    attempts: 0,
  };
  while (pos < end) {
    const tag = varint();
    switch (tag >>> 3) {
      case 1:
        expect(tag, 2);
        m.jobId = boundedString(MAX_WIRE_JOB_ID_BYTES, m, "jobId");
        break;
      case 2:
        expect(tag, 0);
        m.status = varint32();
        break;
      case 3:
        expect(tag, 2);
        m.resultPtr = string();
        break;
      case 4:
        expect(tag, 2);
        m.workerId = string();
        break;
      case 5:
        expect(tag, 0);
        m.executionMs = int64();
        break;
      case 20:
        expect(tag, 2);
        m.output = bytes();
        break;
      case 21:
        expect(tag, 2);
        m.error = string();
        break;
      case 22:
        expect(tag, 0);
        m.attempts = varint32();
        break;
      default:
        throw FALLBACK;
    }
  }
  return m;
}

/** A bool field's value: any non-zero varint is true. */
function bool(tag: number): boolean {
  expect(tag, 0);
  const start = pos;
  const v = varint32();
  // A zero in more than one byte may hide bits above 32: fromBinary decides.
  if (v === 0 && pos - start > 1) throw FALLBACK;
  return v !== 0;
}

function heartbeat(end: number): Heartbeat {
  const m: Heartbeat = {
    $typeName: "cortex.v1.Heartbeat",
    workerId: "",
    region: "",
    type: "",
    cpuLoad: 0,
    gpuUtilization: 0,
    activeJobs: 0,
    capabilities: [],
    pool: "",
    maxParallelJobs: 0,
    leaving: false,
    durable: false,
    session: "",
  };
  while (pos < end) {
    const tag = varint();
    switch (tag >>> 3) {
      case 1:
        expect(tag, 2);
        m.workerId = string();
        break;
      case 2:
        expect(tag, 2);
        m.region = string();
        break;
      case 3:
        expect(tag, 2);
        m.type = string();
        break;
      case 4:
        expect(tag, 5);
        m.cpuLoad = float();
        break;
      case 5:
        expect(tag, 5);
        m.gpuUtilization = float();
        break;
      case 6:
        expect(tag, 0);
        m.activeJobs = varint32();
        break;
      case 7:
        expect(tag, 2);
        if (m.capabilities.length === MAX_WIRE_CAPABILITIES) {
          throw new WireLimitError(
            `a heartbeat with more than ${MAX_WIRE_CAPABILITIES} capabilities is not read`,
          );
        }
        m.capabilities.push(string());
        break;
      case 11:
        expect(tag, 2);
        m.pool = string();
        break;
      case 12:
        expect(tag, 0);
        m.maxParallelJobs = varint32();
        break;
      case 20:
        m.leaving = bool(tag);
        break;
      case 21:
        m.durable = bool(tag);
        break;
      case 22:
        expect(tag, 2);
        m.session = string();
        break;
      default:
        throw FALLBACK;
    }
  }
  return m;
}

function alert(end: number): SystemAlert {
  const m: SystemAlert = {
    $typeName: "cortex.v1.SystemAlert",
    level: "",
    message: "",
    component: "",
  };
  while (pos < end) {
    const tag = varint();
    expect(tag, 2);
    switch (tag >>> 3) {
      case 1:
        m.level = string();
        break;
      case 2:
        m.message = string();
        break;
      case 3:
        m.component = string();
        break;
      default:
        throw FALLBACK;
    }
  }
  return m;
}

function timestamp(end: number): Timestamp {
  const m: Timestamp = {
    $typeName: "google.protobuf.Timestamp",
    seconds: 0n,
    nanos: 0,
  };
  while (pos < end) {
    const tag = varint();
    expect(tag, 0);
    if (tag >>> 3 === 1) m.seconds = int64();
    else if (tag >>> 3 === 2) m.nanos = varint32();
    else throw FALLBACK;
  }
  return m;
}

function busPacket(): BusPacket {
  const m: BusPacket = {
    $typeName: "cortex.v1.BusPacket",
    traceId: "",
    senderId: "",
    protocolVersion: 0,
    payload: { case: undefined },
  };
  let createdAt: Timestamp | undefined;
  while (pos < buf.length) {
    const tag = varint();
    const field = tag >>> 3;
    if (field >= 3 && field !== 4) {
      // A message: the body is read here, and a second copy (which
      // protobuf merges) is left to fromBinary.
      expect(tag, 2);
      const bodyLength = length();
      const end = pos + bodyLength;
      if (field === 3) {
        if (createdAt !== undefined) throw FALLBACK;
        createdAt = timestamp(end);
      } else {
        if (m.payload.case !== undefined) throw FALLBACK;
        switch (field) {
          case 10:
            m.payload = { case: "jobRequest", value: jobRequest(end) };
            break;
          case 11:
            m.payload = { case: "jobResult", value: jobResult(end) };
            break;
          case 12:
            m.payload = { case: "heartbeat", value: heartbeat(end) };
            break;
          case 13:
            m.payload = { case: "alert", value: alert(end) };
            break;
          default:
            throw FALLBACK;
        }
      }
      if (pos !== end) throw FALLBACK;
      continue;
    }
    switch (field) {
      case 1:
        expect(tag, 2);
        m.traceId = string();
        break;
      case 2:
        expect(tag, 2);
        m.senderId = repeatedString(length(), SENDER);
        break;
      case 4:
        expect(tag, 0);
        m.protocolVersion = varint32() >>> 0;
        break;
      default:
        throw FALLBACK;
    }
  }
  if (createdAt !== undefined) m.createdAt = createdAt;
  return m;
}

/**
 * The worker id of the heartbeat in `bytes`, read without decoding the
 * rest: what the scheduler needs to refuse a heartbeat from an id its
 * registry has no room for, at the cost of one short string. `undefined`
 * when the bytes are not a heartbeat in the canonical encoding, or its id
 * is empty or longer than `maxBytes`: the whole packet is then decoded and
 * judged as usual. As in a decoded packet, the last `worker_id` wins.
 *
 * @example
 * ```ts
 * heartbeatWorkerId(encodePacket(beat), 256); // "echo-1"
 * ```
 */
export function heartbeatWorkerId(
  bytes: Uint8Array,
  maxBytes: number,
): string | undefined {
  return peekId(bytes, HEARTBEAT_FIELD, (length) => length <= maxBytes);
}

/**
 * The job id of the result in `bytes`, read without decoding the rest:
 * what a client needs to drop, at the cost of one short string, the
 * results of jobs it does not await (every client that submits is sent
 * every result in the system). `undefined` when the bytes are not a result
 * in the canonical encoding, or its id is empty, not ASCII or longer than
 * `maxBytes`: the whole packet is then decoded and judged as usual.
 * Whenever {@linkcode readPacket} or `fromBinary` reads a result from
 * `bytes`, its job id is the one returned here, if any (as in a decoded
 * packet, the last `job_id` wins).
 *
 * @example
 * ```ts
 * resultJobId(encodePacket(result), 256); // "job-1"
 * ```
 */
export function resultJobId(
  bytes: Uint8Array,
  maxBytes: number,
): string | undefined {
  return peekId(bytes, RESULT_FIELD, (length, start) => {
    // Longer ids are clipped when decoded; UTF-8 is left to the decoder.
    if (length > maxBytes || length > MAX_WIRE_JOB_ID_BYTES) return false;
    for (let i = start; i < start + length; i++) {
      if (buf[i] > 0x7f) return false;
    }
    return true;
  });
}

/** BusPacket's payload fields whose first field is the id {@linkcode peekId} reads. */
const RESULT_FIELD = 11;
const HEARTBEAT_FIELD = 12;

/**
 * Field 1 (the id) of the only payload `payloadField` in `bytes`, when
 * it is a non-empty string `accepts` takes; `undefined` for anything the
 * full decoder must judge: another payload, merged payloads, the id with
 * another wire type (fromBinary reads that as an id too), or bytes that do
 * not parse.
 */
function peekId(
  bytes: Uint8Array,
  payloadField: number,
  accepts: (length: number, start: number) => boolean,
): string | undefined {
  buf = bytes;
  pos = 0;
  try {
    let found: number | undefined;
    let start = 0;
    while (pos < buf.length) {
      const tag = varint();
      if (tag !== ((payloadField << 3) | 2)) {
        if (tag >>> 3 >= 10) return undefined; // another payload
        skip(tag);
        continue;
      }
      if (found !== undefined) return undefined; // merged payloads
      const bodyLength = length(); // before `pos` is read: it moves it
      const end = pos + bodyLength;
      found = -1;
      while (pos < end) {
        const field = varint();
        if (field >>> 3 === 1 && (field & 7) !== 2) return undefined;
        if (field !== ((1 << 3) | 2)) {
          skip(field);
          continue;
        }
        const len = length();
        found = len;
        start = pos;
        pos += len;
      }
      if (pos !== end) return undefined;
    }
    if (found === undefined || found <= 0 || !accepts(found, start)) {
      return undefined;
    }
    pos = start;
    return stringOf(found);
  } catch (error) {
    if (error === FALLBACK) return undefined;
    throw error;
  } finally {
    buf = EMPTY;
  }
}

/**
 * The result in `bytes`, exactly as {@linkcode readPacket} would return it
 * as the packet's payload, without the packet around it: the header's
 * fields (trace and sender ids, creation time, protocol version) are
 * checked as `readPacket` checks them, but not kept. `undefined` when the
 * bytes are not a result `readPacket` reads (another payload, none, or
 * bytes it leaves to `fromBinary`): decode the whole packet then. What a
 * client awaiting results reads of each one of its own.
 *
 * @example
 * ```ts
 * readJobResult(encodePacket(packet({ case: "jobResult", value }))); // value's fields
 * ```
 */
export function readJobResult(bytes: Uint8Array): JobResult | undefined {
  buf = bytes;
  pos = 0;
  try {
    let result: JobResult | undefined;
    let other = false;
    let createdAt = false;
    while (pos < buf.length) {
      const tag = varint();
      const field = tag >>> 3;
      if (field >= 3 && field !== 4) {
        expect(tag, 2);
        const bodyLength = length();
        const end = pos + bodyLength;
        if (field === 3) {
          if (createdAt) throw FALLBACK;
          createdAt = true;
          skimTimestamp(end);
        } else {
          if (result !== undefined || other) throw FALLBACK;
          if (field === 11) result = jobResult(end);
          else if (field >= 10 && field <= 13) {
            other = true; // another payload: not read here
            pos = end;
          } else throw FALLBACK;
        }
        if (pos !== end) throw FALLBACK;
        continue;
      }
      switch (field) {
        case 1:
        case 2:
          expect(tag, 2);
          checkUtf8(length());
          break;
        case 4:
          expect(tag, 0);
          varint32();
          break;
        default:
          throw FALLBACK;
      }
    }
    return other ? undefined : result;
  } catch (error) {
    if (error === FALLBACK) return undefined;
    throw error;
  } finally {
    buf = EMPTY;
  }
}

/** Skips the next `len` bytes if they are UTF-8, as `string()` reads them. */
function checkUtf8(len: number): void {
  const start = pos;
  pos += len;
  for (let i = start; i < pos; i++) {
    if (buf[i] > 0x7f) {
      utf8(start); // throws FALLBACK where `string()` would
      return;
    }
  }
}

/** Reads a timestamp's fields as `timestamp()` does, keeping nothing. */
function skimTimestamp(end: number): void {
  while (pos < end) {
    const tag = varint();
    expect(tag, 0);
    if (tag >>> 3 === 1) int64Skip();
    else if (tag >>> 3 === 2) varint32();
    else throw FALLBACK;
  }
}

/** Skips an int64 where `int64()` reads one: at most ten bytes. */
function int64Skip(): void {
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw FALLBACK;
    if (buf[pos++] < 0x80) return;
  }
  throw FALLBACK;
}

/** Skips the value of a field with `tag`, whatever its wire type. */
function skip(tag: number): void {
  switch (tag & 7) {
    case 0:
      varint32(); // up to 10 bytes, as a negative int32 is
      return;
    case 1:
      pos += 8;
      break;
    case 2: {
      const len = varint(); // before `pos` is read: it moves it
      pos += len;
      break;
    }
    case 5:
      pos += 4;
      break;
    default:
      throw FALLBACK;
  }
  if (pos > buf.length) throw FALLBACK;
}

/**
 * Which fields of which message hold a message, by field number: the
 * messages {@linkcode fieldsWithin} looks into. BusPacket's timestamp and
 * payloads, a JobRequest's `env_vars` entries.
 */
const NESTED: Record<string, Record<number, string>> = {
  BusPacket: {
    3: "Timestamp",
    10: "JobRequest",
    11: "JobResult",
    12: "Heartbeat",
    13: "SystemAlert",
  },
  JobRequest: { 6: "Entry" },
};

/**
 * How many fields `bytes[start, end)` holds as a `message`, with those of
 * the messages inside it, stopping past `budget`; -1 for bytes that are
 * not a sequence of fields (`fromBinary` refuses those, having read no more
 * fields than were counted). The fields of a group (wire types 3 and 4,
 * which no BusPacket has, but `fromBinary` skips through them) count too.
 */
function fieldsWithin(
  bytes: Uint8Array,
  start: number,
  end: number,
  message: string,
  budget: number,
): number {
  let at = start;
  let count = 0;
  let groups = 0;
  const next = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8 && at < end; i++) {
      const b = bytes[at++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
    return -1;
  };
  while (at < end) {
    const tag = next();
    if (tag < 0) return -1;
    if (++count > budget) return count;
    switch (tag & 7) {
      case 0:
        if (next() < 0) return -1;
        break;
      case 1:
        at += 8;
        break;
      case 5:
        at += 4;
        break;
      case 2: {
        const len = next();
        if (len < 0 || at + len > end) return -1;
        const inner = NESTED[message]?.[tag >>> 3];
        if (inner !== undefined) {
          const within = fieldsWithin(
            bytes,
            at,
            at + len,
            inner,
            budget - count,
          );
          if (within < 0) return -1;
          count += within;
          if (count > budget) return count;
        }
        at += len;
        break;
      }
      case 3:
        groups++;
        break;
      case 4:
        if (groups-- === 0) return -1;
        break;
      default:
        return -1;
    }
  }
  return at === end && groups === 0 ? count : -1;
}

/**
 * The BusPacket in `bytes`, as `fromBinary(BusPacketSchema, bytes)` would
 * return it, or `undefined` when the bytes need `fromBinary` to decide
 * (unknown fields, non-canonical encodings, or not a BusPacket at all).
 *
 * @throws {WireLimitError} for bytes over the reader's bounds (a heartbeat
 * with more than {@linkcode MAX_WIRE_CAPABILITIES} capabilities; bytes it
 * would leave to `fromBinary` with more than
 * {@linkcode MAX_FALLBACK_FIELDS} fields), which are not to be decoded.
 *
 * @example
 * ```ts
 * const message = readPacket(bytes) ?? fromBinary(BusPacketSchema, bytes);
 * ```
 */
export function readPacket(bytes: Uint8Array): BusPacket | undefined {
  buf = bytes;
  pos = 0;
  try {
    return busPacket();
  } catch (error) {
    if (error !== FALLBACK) throw error;
  } finally {
    buf = EMPTY; // do not keep the caller's bytes alive
  }
  const fields = fieldsWithin(
    bytes,
    0,
    bytes.length,
    "BusPacket",
    MAX_FALLBACK_FIELDS,
  );
  if (fields > MAX_FALLBACK_FIELDS) {
    throw new WireLimitError(
      `a packet of more than ${MAX_FALLBACK_FIELDS} fields that this version does not read whole (unknown fields, or an encoding it does not expect) is not decoded`,
    );
  }
  return undefined;
}
