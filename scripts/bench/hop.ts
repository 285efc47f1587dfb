/**
 * One hop of the benchmark's baselines, as its own process (like the
 * scheduler and the workers are): raw bytes in, raw bytes out, no decoding.
 *
 *   hop.ts <nats-url> forward <from> <to> <queue>   relay: publish each message's bytes to <to>
 *   hop.ts <nats-url> reply <from> <queue>          responder: answer each request with its bytes
 *   hop.ts <nats-url> pull <stream> <consumer> <to>  JetStream floor: pull from a durable consumer,
 *                                                    publish each message's bytes to <to>, ack it
 *
 * Prints `ready` once its subscription is live; exits when standard input
 * closes, or after ten minutes whatever happens.
 *
 * @module
 */
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

const MAX_LIFE_MS = 10 * 60_000;

const [url, mode, from, ...rest] = Deno.args;
if (!url || !from || !["forward", "reply", "pull"].includes(mode)) {
  console.error(
    "usage: hop.ts <nats-url> forward <from> <to> <queue> | reply <from> <queue> | pull <stream> <consumer> <to>",
  );
  Deno.exit(2);
}
// The connection options of CortexOS's own processes (src/bus/connect.ts):
// without async traces nats.js makes no stack-capturing error per request.
const nc = await connect({
  servers: url,
  name: `bench-${mode}`,
  noAsyncTraces: true,
});
if (mode === "pull") {
  // The floor of one stored hop: what a durable worker does at the least
  // (take a message from a work-queue consumer, answer, ack it), with the
  // answer on core NATS and no decoding.
  const [consumerName, to] = rest;
  const consumer = await jetstream(nc).consumers.get(from, consumerName);
  await consumer.consume({
    max_messages: 200,
    callback: (msg) => {
      nc.publish(to, msg.data);
      msg.ack();
    },
  });
} else if (mode === "forward") {
  const [to, queue] = rest;
  nc.subscribe(from, {
    queue,
    callback: (_error, msg) => nc.publish(to, msg.data),
  });
} else {
  const [queue] = rest;
  nc.subscribe(from, {
    queue,
    callback: (_error, msg) => {
      msg.respond(msg.data);
    },
  });
}
await nc.flush();
console.log("ready");

const life = setTimeout(() => Deno.exit(3), MAX_LIFE_MS);
for await (const _ of Deno.stdin.readable) { /* until EOF */ }
clearTimeout(life);
await nc.drain();
