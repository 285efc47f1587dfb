import {
  exitCodeOf,
  REPEAT_WINDOW_MS,
  signalExitCode,
  stopSignalMeaning,
} from "../../src/signals.ts";
import { assertEquals } from "../assert.ts";

Deno.test("signals: the first stops, an echo within the window is ignored, a later one forces", () => {
  assertEquals(stopSignalMeaning(undefined, 5_000), "stop");
  assertEquals(stopSignalMeaning(5_000, 5_000 + REPEAT_WINDOW_MS - 1), "echo");
  assertEquals(stopSignalMeaning(5_000, 5_000 + REPEAT_WINDOW_MS), "force");
});

Deno.test("signals: a signal's exit code is 128 plus its number", () => {
  assertEquals(signalExitCode("SIGINT"), 130);
  assertEquals(signalExitCode("SIGKILL"), 137);
  assertEquals(signalExitCode("SIGTERM"), 143);
  assertEquals(exitCodeOf({ success: false, code: 3, signal: null }), 3);
  assertEquals(exitCodeOf({ success: false, code: 0, signal: "SIGTERM" }), 143);
});
