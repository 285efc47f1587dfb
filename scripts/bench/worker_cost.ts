/**
 * What the echo worker allocates and spends per job in-process: the SDK's
 * worker (`cortex.worker` with the echo handler at 0 ms, as
 * `deno task worker:echo` runs in benchmark scenario 1) over a bus that
 * encodes each packet it is given as `NatsBus.publish` does and sends it
 * nowhere, fed encoded job requests, without NATS or other processes.
 * Heap growth is read between full collections, as in
 * `scripts/bench/engine_cost.ts`:
 *
 * ```sh
 * deno run --allow-read --v8-flags=--expose-gc,--max-semi-space-size=64,--min-semi-space-size=64 \
 *   scripts/bench/worker_cost.ts
 * ```
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { JobRequestSchema } from "../../src/gen/cortex/v1/cortex_pb.ts";
import {
  decodePacket,
  encodePacket,
  encodeSharedPacket,
  newTraceId,
  packet,
} from "../../src/bus/codec.ts";
import { ECHO_TOPIC } from "../../src/bus/subjects.ts";
import { logger } from "../../src/log.ts";
import { nowhereBus, Tally } from "./in_process.ts";
import { CortexWorker } from "../../src/sdk/worker.ts";
import { echoJob } from "../../src/worker/echo.ts";

const CHUNK = 20_000;
/** The first chunks warm the JIT: not counted. */
const WARM = 4;
const CHUNKS = 12;

let sent = 0;
const { bus, handlers } = nowhereBus((message) => {
  sent += encodeSharedPacket(message).length;
});
const worker = new CortexWorker(
  { nc: undefined as never, bus, durability: "core", log: logger("bench") },
  ECHO_TOPIC,
  echoJob({ minMs: 0, maxMs: 0 }),
  { concurrency: 100 },
  () => {},
);
await worker.start();
const onJob = handlers.get(ECHO_TOPIC)!;

const tally = new Tally();
for (let chunk = 0; chunk < CHUNKS; chunk++) {
  // Encoded before measuring: the scheduler's part. Ids and trace ids as
  // the bench's raw driver sends them: one of each per job.
  const requests: Uint8Array[] = [];
  for (let i = 0; i < CHUNK; i++) {
    requests.push(encodePacket(packet({
      case: "jobRequest",
      value: create(JobRequestSchema, {
        jobId: `bench-${chunk}-${String(i).padStart(7, "0")}`,
        topic: ECHO_TOPIC,
      }),
    }, { senderId: "bench-client", traceId: newTraceId() })));
  }
  tally.chunk(CHUNK, chunk >= WARM, () => {
    for (const raw of requests) {
      const decoded = decodePacket(raw);
      if (decoded.ok) onJob(decoded.packet, raw, ECHO_TOPIC);
    }
  });
}
const { bytes, cpuUs, jobs } = tally.perJob();
console.log(
  `echo worker: ${bytes} bytes allocated, ${
    cpuUs.toFixed(2)
  } CPU µs per job (collections outside the measured loops; ${jobs} jobs, ${sent} bytes of results)`,
);
await worker.stop();
