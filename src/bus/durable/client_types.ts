/**
 * The JetStream and KV client types durable-mode modules name in their
 * signatures: `@nats-io/jetstream`'s and `@nats-io/kv`'s own, given names
 * here so the documented API does not reference undocumented types.
 *
 * @module
 */
import type * as js from "@nats-io/jetstream";
import type * as kv from "@nats-io/kv";

/** A JetStream client (publish into streams, get consumers): `@nats-io/jetstream`'s own type. */
export type JetStreamClient = js.JetStreamClient;
/** A message pulled from a JetStream consumer: `@nats-io/jetstream`'s own type. */
export type JsMsg = js.JsMsg;
/** A KV bucket: `@nats-io/kv`'s own type. */
export type KV = kv.KV;
