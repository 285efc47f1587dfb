/**
 * One hop of the benchmark's baselines, as its own process (like the
 * scheduler and the workers are): raw bytes in, raw bytes out, no decoding.
 *
 *   hop.ts <nats-url> forward <from> <to> <queue>   relay: publish each message's bytes to <to>
 *   hop.ts <nats-url> reply <from> <queue>          responder: answer each request with its bytes
 *
 * Prints `ready` once its subscription is live; exits when standard input
 * closes, or after ten minutes whatever happens.
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";

const MAX_LIFE_MS = 10 * 60_000;

const [url, mode, from, ...rest] = Deno.args;
if (!url || !from || (mode !== "forward" && mode !== "reply")) {
  console.error(
    "usage: hop.ts <nats-url> forward <from> <to> <queue> | reply <from> <queue>",
  );
  Deno.exit(2);
}
const nc = await connect({ servers: url, name: `bench-${mode}` });
if (mode === "forward") {
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
