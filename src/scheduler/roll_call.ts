/**
 * The roll call: a scheduler that starts asks every running worker for a
 * heartbeat at once, so its registry (and the dashboard) lists them within
 * a second instead of at each worker's next heartbeat (up to 5 s later).
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { SystemAlertSchema } from "../gen/cortex/v1/cortex_pb.ts";
import type { Bus } from "../bus/bus.ts";
import { packet } from "../bus/codec.ts";
import { ROLL_CALL } from "../bus/subjects.ts";

/**
 * Publishes the roll call on {@linkcode ROLL_CALL}: a `BusPacket` with an
 * info `SystemAlert` saying what it asks (workers act on the subject, not
 * the content).
 * Call it once the scheduler listens to heartbeats. Workers of this
 * version answer with a heartbeat; others (the Go MVP's) are listed at
 * their next one.
 *
 * @example
 * ```ts
 * await scheduler.start();
 * callRoll(bus, senderId);
 * ```
 */
export function callRoll(bus: Bus, senderId: string): void {
  const value = create(SystemAlertSchema, {
    level: "info",
    message: "roll call: every worker, send a heartbeat now",
    component: "scheduler",
  });
  bus.publish(ROLL_CALL, packet({ case: "alert", value }, { senderId }));
}
