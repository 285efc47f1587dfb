// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * The BusPacket codec: every message on the bus is a `cortex.v1.BusPacket`.
 *
 * Decoding never throws: bytes that are not a BusPacket come back as a
 * {@linkcode DecodeFailure} naming the reason, so a handler loop cannot be
 * broken by a peer's bad bytes.
 *
 * @module
 */
import { fromBinary, toBinary } from "npm:@bufbuild/protobuf@^2.17.0";
import type { Timestamp } from "npm:@bufbuild/protobuf@^2.17.0/wkt";
import { BusPacketSchema } from "../gen/cortex/v1/cortex_pb.ts";
import type {
  BusPacket,
  Heartbeat,
  JobRequest,
  JobResult,
  SystemAlert,
} from "./messages.ts";
import { readPacket } from "./wire/packet_reader.ts";
import { writePacket, writeSharedPacket } from "./wire/packet_writer.ts";

/** The `protocol_version` this code speaks. */
export const PROTOCOL_VERSION = 1;

/** The payload of a BusPacket, by case. */
export type Payload =
  | { case: "jobRequest"; value: JobRequest }
  | { case: "jobResult"; value: JobResult }
  | { case: "heartbeat"; value: Heartbeat }
  | { case: "alert"; value: SystemAlert };

/** Who sent a packet and which trace it belongs to. */
export interface Envelope {
  /** The sender's id on the bus: a worker id, or the scheduler's or a client's name. */
  senderId: string;
  /** Default: a new random trace id. */
  traceId?: string;
}

/** A new random trace id (32 hex digits, like a W3C trace id). */
export function newTraceId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/**
 * Now, as a `google.protobuf.Timestamp`: what `timestampNow()` returns,
 * built directly rather than through the reflective `create()` (it is
 * called for every packet sent).
 */
function timestampNow(): Timestamp {
  const ms = Date.now();
  return {
    $typeName: "google.protobuf.Timestamp",
    seconds: BigInt(Math.floor(ms / 1000)),
    nanos: (ms % 1000) * 1_000_000,
  };
}

/**
 * Wraps `payload` in a BusPacket stamped with now and the protocol version.
 * Built as a literal, as `create()` would build it but without its
 * reflection: every packet sent goes through here, and the compiler checks
 * that the literal names every field.
 */
export function packet(payload: Payload, envelope: Envelope): BusPacket {
  return {
    $typeName: "cortex.v1.BusPacket",
    traceId: envelope.traceId ?? newTraceId(),
    senderId: envelope.senderId,
    createdAt: timestampNow(),
    protocolVersion: PROTOCOL_VERSION,
    payload,
  };
}

/**
 * Encodes a BusPacket to its wire bytes: those `toBinary` writes, by the
 * hand-written {@linkcode writePacket} (the hot path) or, for a message with
 * unknown fields, by `toBinary` itself.
 */
export function encodePacket(message: BusPacket): Uint8Array {
  return writePacket(message) ?? toBinary(BusPacketSchema, message);
}

/**
 * As {@linkcode encodePacket}, but the bytes may share a chunk with other
 * packets' (see {@linkcode writeSharedPacket}): for bytes published at
 * once, never kept.
 */
export function encodeSharedPacket(message: BusPacket): Uint8Array {
  return writeSharedPacket(message) ?? toBinary(BusPacketSchema, message);
}

/** Bytes that did not decode, and why. */
export interface DecodeFailure {
  /** Always false: tells a failure from a decoded packet. */
  ok: false;
  /** What was wrong with the bytes, for a log line. */
  reason: string;
}

/** The result of {@linkcode decodePacket}. */
export type Decoded = { ok: true; packet: BusPacket } | DecodeFailure;

/**
 * Decodes wire bytes into a BusPacket. Empty packets (no payload) and bytes
 * that are not protobuf are failures, never exceptions.
 *
 * @example
 * ```ts
 * const decoded = decodePacket(bytes);
 * if (!decoded.ok) console.warn(decoded.reason);
 * ```
 */
export function decodePacket(bytes: Uint8Array): Decoded {
  let message: BusPacket;
  try {
    // The hand-written reader takes the canonical encoding; fromBinary the rest.
    message = readPacket(bytes) ?? fromBinary(BusPacketSchema, bytes);
  } catch (error) {
    return {
      ok: false,
      reason: `not a BusPacket: ${
        error instanceof Error ? error.message : String(error)
      }`,
    };
  }
  if (message.payload.case === undefined) {
    return { ok: false, reason: "BusPacket has no payload" };
  }
  return { ok: true, packet: message };
}

/**
 * When the packet's sender made it (`created_at`), in epoch ms, or
 * `undefined` when it did not say.
 *
 * @example
 * ```ts
 * createdAtMs(packet({ case: "jobRequest", value: job }, { senderId: "cli" })); // about Date.now()
 * ```
 */
export function createdAtMs(message: BusPacket): number | undefined {
  const ts = message.createdAt;
  return ts ? Number(ts.seconds) * 1000 + ts.nanos / 1e6 : undefined;
}
