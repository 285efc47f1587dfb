/**
 * The fleet simulator of benchmark scenario 3: `count` workers, each sending
 * a real `BusPacket{heartbeat}` to `sys.heartbeat.sim` every `interval` ms,
 * spread evenly over the interval.
 *
 *   fleet.ts <nats-url> <count> <interval-ms>
 *
 * Prints `ready` after every worker has beaten once; exits when standard
 * input closes (printing `{"sent": N, "late_ms": M}`), or after ten minutes.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { connect } from "@nats-io/transport-node";
import { HeartbeatSchema } from "../../src/gen/cortex/v1/cortex_pb.ts";
import { encodePacket, packet } from "../../src/bus/codec.ts";
import { heartbeatSubject } from "../../src/bus/subjects.ts";

const MAX_LIFE_MS = 10 * 60_000;
const TICK_MS = 20;
const POOL = "sim";

const [url, countArg, intervalArg] = Deno.args;
const count = Number(countArg);
const intervalMs = Number(intervalArg);
if (!url || !(count > 0) || !(intervalMs > 0)) {
  console.error("usage: fleet.ts <nats-url> <count> <interval-ms>");
  Deno.exit(2);
}
const nc = await connect({ servers: url, name: "bench-fleet" });
const subject = heartbeatSubject(POOL);
const ids = Array.from(
  { length: count },
  (_, i) => `sim-${String(i).padStart(5, "0")}`,
);

let sent = 0;
let lateMs = 0;
let announced = false;
const started = performance.now();
const beat = (i: number) => {
  const workerId = ids[i];
  nc.publish(
    subject,
    encodePacket(packet({
      case: "heartbeat",
      value: create(HeartbeatSchema, {
        workerId,
        pool: POOL,
        region: "bench",
        type: "sim",
        capabilities: ["sim"],
        activeJobs: i % 4,
        maxParallelJobs: 4,
        cpuLoad: (i % 100) / 100,
      }),
    }, { senderId: workerId })),
  );
  sent++;
};

// Worker i beats at i/count of each interval; every tick sends the beats due.
const ticker = setInterval(() => {
  const now = performance.now() - started;
  const due = Math.floor(now / intervalMs * count);
  const behind = now - (sent / count) * intervalMs;
  if (behind > lateMs) lateMs = behind;
  while (sent < due) beat(sent % count);
  if (!announced && sent >= count) {
    announced = true;
    console.log("ready");
  }
}, TICK_MS);

const life = setTimeout(() => Deno.exit(3), MAX_LIFE_MS);
for await (const _ of Deno.stdin.readable) { /* until EOF */ }
clearInterval(ticker);
clearTimeout(life);
await nc.drain();
console.log(JSON.stringify({ sent, late_ms: Math.round(lateMs) }));
