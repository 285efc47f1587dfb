import { JobPriority, JobStatus } from "../../src/gen/cortex/v1/cortex_pb.ts";
import {
  finalState,
  isFinal,
  JOB_PRIORITIES,
  JOB_STATES,
  JOB_STATUSES,
  priorityName,
  priorityNumber,
  statusNumber,
} from "../../src/contract/mod.ts";
import { assertEquals } from "../assert.ts";

// The contract holds the wire numbers without importing protobuf: these
// tests are what ties them to the generated enums.

Deno.test("every JobStatus of the contract has the wire number of the proto", () => {
  const names = Object.keys(JobStatus).filter((k) => isNaN(Number(k)));
  assertEquals([...JOB_STATUSES].sort(), names.sort());
  for (const name of JOB_STATUSES) {
    assertEquals(JOB_STATUSES.indexOf(name), JobStatus[name]);
  }
});

Deno.test("every JobPriority of the contract has the wire number of the proto", () => {
  const names = Object.keys(JobPriority).filter((k) => isNaN(Number(k)));
  assertEquals([...JOB_PRIORITIES].sort(), names.sort());
  for (const name of JOB_PRIORITIES) {
    assertEquals(priorityNumber(name), JobPriority[name]);
    assertEquals(priorityName(JobPriority[name]), name);
  }
  assertEquals(priorityNumber("interactive"), JobPriority.INTERACTIVE);
  assertEquals(priorityNumber("urgent"), undefined);
  assertEquals(priorityName(42), "42");
});

Deno.test("final states map to statuses both ways; unknown and unspecified fail", () => {
  for (const state of JOB_STATES.filter(isFinal)) {
    assertEquals(finalState(statusNumber(state)), state);
  }
  assertEquals(finalState(JobStatus.UNSPECIFIED), "FAILED");
  assertEquals(finalState(99), "FAILED");
  assertEquals(JOB_STATES.filter((s) => !isFinal(s)), [
    "PENDING",
    "DISPATCHED",
  ]);
});
